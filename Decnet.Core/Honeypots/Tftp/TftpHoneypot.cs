using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Tftp;

public sealed class TftpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "tftp";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(69, ServiceTransport.Udp)];

    public IHoneypotService Create(ServiceContext context) => new TftpHoneypot(context);
}

/// <summary>
/// A tftpd-hpa style server. Requests arrive on port 69; each transfer then runs, as RFC 1350 wants, on a
/// fresh port of the decky's address (the server's transfer id), lock-step with retransmission. Reads are
/// served from the bait files; writes are stored as artifacts (SHA-256, size-capped by
/// <c>max_upload_bytes</c>). Transfers are bounded in number, per sender address, in time and in bytes.
/// </summary>
public sealed class TftpHoneypot : IHoneypotService
{
    public const int MaxTransfers = 32;
    public const int MaxTransfersPerAddress = 4;
    public const long DefaultMaxUploadBytes = 16 * 1024 * 1024;
    private const int DefaultBlockSize = 512;
    private const int MaxBlockSize = 1468;
    private const int Retries = 5;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxTransferTime = TimeSpan.FromMinutes(5);

    private readonly TftpBaitFiles _files;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Guid, Task> _transfers = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];

    public TftpHoneypot(ServiceContext context)
    {
        Context = context;
        _files = new TftpBaitFiles(context.Hostname, context.PersonaValue("files"));
        _logger = context.LoggerFactory.CreateLogger<TftpHoneypot>();
        MaxUploadBytes = long.TryParse(context.PersonaValue("max_upload_bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max > 0
            ? Math.Min(max, context.Limits.MaxBytesPerSession)
            : Math.Min(DefaultMaxUploadBytes, context.Limits.MaxBytesPerSession);
    }

    public ServiceContext Context { get; }

    public long MaxUploadBytes { get; }

    /// <summary>
    /// What the imitated tftpd answers a datagram that is no request (what nmap's version probes send): IOS
    /// and Windows Deployment Services each reply with their own error 4 text, which nmap names; tftpd-hpa,
    /// the tftpd of Linux and BSD hosts and appliances, answers only RRQ and WRQ and stays silent.
    /// </summary>
    public string? IllegalOperation => Context.OsFamily switch
    {
        "cisco" => "Illegal operation",
        "windows" or "windows_server" => "Illegal operation error.",
        _ => null,
    };

    /// <summary>Transfers running now.</summary>
    public int ActiveTransfers => _transfers.Count;

    public ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken)
    {
        var opcode = TftpPacket.Opcode(datagram.Span);
        if (opcode is TftpOpcode.Error)
        {
            // Errors are never answered, or two servers could ping-pong forever.
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
        }
        var request = TftpPacket.ParseRequest(datagram.Span);
        if (request is null)
        {
            Emit(remote, "unknown_opcode",
                ("opcode", opcode is { } code ? ((ushort)code).ToString(CultureInfo.InvariantCulture) : null),
                ("length", datagram.Length.ToString(CultureInfo.InvariantCulture)));
            return IllegalOperation is { } message ? Reply(TftpPacket.Error(4, message)) : ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
        }
        var op = request.Opcode == TftpOpcode.ReadRequest ? "RRQ" : "WRQ";
        Emit(remote, "request",
            ("op", op),
            ("filename", request.FileName),
            ("mode", request.Mode),
            ("options", request.Options.Count > 0 ? JsonSerializer.Serialize(request.Options) : null));
        if (request.Mode is not ("octet" or "netascii"))
        {
            return Reply(TftpPacket.Error(4, request.Mode == "mail" ? "Mail mode not supported" : "Unknown mode"));
        }
        if (!TryReserve(remote.Address))
        {
            Emit(remote, "transfer_refused", ("op", op), ("filename", request.FileName), ("reason", "too many transfers"));
            return Reply(TftpPacket.Error(0, "Server busy"));
        }
        var id = Guid.NewGuid();
        var task = Task.Run(() => RunTransferAsync(id, request, remote, local), CancellationToken.None);
        _transfers[id] = task;
        return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
    }

    private static ValueTask<ReadOnlyMemory<byte>?> Reply(byte[] packet) => ValueTask.FromResult<ReadOnlyMemory<byte>?>(packet);

    private bool TryReserve(IPAddress address)
    {
        lock (_perAddress)
        {
            var count = _perAddress.GetValueOrDefault(address);
            if (_transfers.Count >= MaxTransfers || count >= MaxTransfersPerAddress || _stopping.IsCancellationRequested)
            {
                return false;
            }
            _perAddress[address] = count + 1;
            return true;
        }
    }

    private void Release(IPAddress address)
    {
        lock (_perAddress)
        {
            if (_perAddress.TryGetValue(address, out var count) && count > 1)
            {
                _perAddress[address] = count - 1;
            }
            else
            {
                _perAddress.Remove(address);
            }
        }
    }

    private async Task RunTransferAsync(Guid id, TftpRequest request, IPEndPoint remote, IPEndPoint local)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(MaxTransferTime);
        try
        {
            // A new transfer id: our own port on the decky's address, connected to the client's, so the kernel
            // drops datagrams from anyone else.
            using var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(local.Address, 0));
            await socket.ConnectAsync(remote, deadline.Token).ConfigureAwait(false);
            var transfer = new Transfer(socket, Negotiate(request), deadline.Token);
            if (request.Opcode == TftpOpcode.ReadRequest)
            {
                await ServeReadAsync(transfer, request, remote).ConfigureAwait(false);
            }
            else
            {
                await ReceiveWriteAsync(transfer, request, remote).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Emit(remote, "transfer_aborted", ("filename", request.FileName), ("reason", _stopping.IsCancellationRequested ? "host_stopped" : "max_duration"));
        }
        catch (SocketException ex)
        {
            // ICMP port unreachable from a client that went away surfaces here.
            Emit(remote, "transfer_aborted", ("filename", request.FileName), ("reason", "socket: " + ex.SocketErrorCode));
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "{Decky}/tftp: transfer of {File} for {Remote} failed", Context.DeckyName, request.FileName, remote);
        }
        finally
        {
            _transfers.TryRemove(id, out _);
            Release(remote.Address);
        }
    }

    /// <summary>The options we accept (RFC 2348 blksize, 2349 timeout and tsize), clamped to our bounds.</summary>
    private static Negotiated Negotiate(TftpRequest request)
    {
        var accepted = new List<KeyValuePair<string, string>>();
        var blockSize = DefaultBlockSize;
        var timeout = DefaultTimeout;
        long? tsize = null;
        if (request.Options.TryGetValue("blksize", out var blk) && int.TryParse(blk, NumberStyles.None, CultureInfo.InvariantCulture, out var requested) && requested >= 8)
        {
            blockSize = Math.Min(requested, MaxBlockSize);
            accepted.Add(new("blksize", blockSize.ToString(CultureInfo.InvariantCulture)));
        }
        if (request.Options.TryGetValue("timeout", out var t) && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 255)
        {
            timeout = TimeSpan.FromSeconds(Math.Min(seconds, 10));
            accepted.Add(new("timeout", seconds.ToString(CultureInfo.InvariantCulture)));
        }
        if (request.Options.TryGetValue("tsize", out var size) && long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var declared))
        {
            tsize = declared;
            accepted.Add(new("tsize", size));
        }
        return new Negotiated(blockSize, timeout, tsize, accepted);
    }

    private async Task ServeReadAsync(Transfer transfer, TftpRequest request, IPEndPoint remote)
    {
        var content = _files.Find(request.FileName);
        if (content is null)
        {
            Emit(remote, "download", ("filename", request.FileName), ("found", "false"));
            await transfer.SendAsync(TftpPacket.Error(1, "File not found")).ConfigureAwait(false);
            return;
        }
        if (request.Mode == "netascii")
        {
            content = Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(content).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));
        }
        var options = transfer.Options;
        if (options.Accepted.Count > 0)
        {
            var oack = options.Accepted.Select(o => o.Key == "tsize" ? new KeyValuePair<string, string>("tsize", content.Length.ToString(CultureInfo.InvariantCulture)) : o).ToList();
            if (await transfer.ExchangeAsync(TftpPacket.OptionAck(oack), packet => TftpPacket.Block(packet, TftpOpcode.Ack) == 0).ConfigureAwait(false) is not { } ack0 || ack0.Error is not null)
            {
                Emit(remote, "download", ("filename", request.FileName), ("found", "true"), ("size", content.Length.ToString(CultureInfo.InvariantCulture)), ("bytes_sent", "0"), ("complete", "false"));
                return;
            }
        }
        var sent = 0L;
        ushort block = 1;
        var complete = false;
        string? clientError = null;
        for (var offset = 0; ; offset += options.BlockSize, block++)
        {
            var length = Math.Min(options.BlockSize, content.Length - offset);
            var data = TftpPacket.Data(block, content.AsSpan(offset, length));
            var expected = block;
            var answer = await transfer.ExchangeAsync(data, packet => TftpPacket.Block(packet, TftpOpcode.Ack) == expected).ConfigureAwait(false);
            if (answer is null || answer.Value.Error is not null)
            {
                clientError = answer?.Error;
                break;
            }
            sent += length;
            if (length < options.BlockSize)
            {
                complete = true;
                break;
            }
        }
        Emit(remote, "download",
            ("filename", request.FileName),
            ("found", "true"),
            ("size", content.Length.ToString(CultureInfo.InvariantCulture)),
            ("bytes_sent", sent.ToString(CultureInfo.InvariantCulture)),
            ("complete", complete ? "true" : "false"),
            ("client_error", clientError));
    }

    private async Task ReceiveWriteAsync(Transfer transfer, TftpRequest request, IPEndPoint remote)
    {
        var options = transfer.Options;
        if (options.TransferSize > MaxUploadBytes)
        {
            Emit(remote, "upload_aborted", ("orig_path", request.FileName), ("error", $"declared size {options.TransferSize} over the {MaxUploadBytes} byte limit"));
            await transfer.SendAsync(TftpPacket.Error(3, "Disk full or allocation exceeded")).ConfigureAwait(false);
            return;
        }
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024));
        var received = 0L;
        var complete = false;
        // Not cancelled with the transfer: completing the pipe ends it, so an aborted upload still keeps
        // what arrived; one that delivered nothing leaves no empty file behind.
        var save = ArtifactStore.SaveAsync(Context, "tftp", request.FileName, pipe.Reader.AsStream(), MaxUploadBytes, CancellationToken.None,
            keep: () => complete || received > 0);
        var overLimit = false;
        string? clientError = null;
        try
        {
            var reply = options.Accepted.Count > 0 ? TftpPacket.OptionAck(options.Accepted) : TftpPacket.Ack(0);
            for (ushort block = 1; ; block++)
            {
                var expected = block;
                var answer = await transfer.ExchangeAsync(reply, packet => TftpPacket.Block(packet, TftpOpcode.Data) == expected).ConfigureAwait(false);
                if (answer is null || answer.Value.Error is not null)
                {
                    clientError = answer?.Error;
                    break;
                }
                var payload = answer.Value.Packet.AsMemory(4);
                // One byte over the cap is enough for the store to mark the artifact truncated.
                var keep = (int)Math.Min(payload.Length, MaxUploadBytes + 1 - received);
                if (keep > 0)
                {
                    await pipe.Writer.WriteAsync(payload[..keep], transfer.Token).ConfigureAwait(false);
                }
                received += payload.Length;
                if (received > MaxUploadBytes)
                {
                    overLimit = true;
                    await transfer.SendAsync(TftpPacket.Error(3, "Disk full or allocation exceeded")).ConfigureAwait(false);
                    break;
                }
                reply = TftpPacket.Ack(block);
                if (payload.Length < options.BlockSize)
                {
                    complete = true;
                    // The final ACK; a client that lost it resends the last block, which this server no longer hears.
                    await transfer.SendAsync(reply).ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (transfer.Token.IsCancellationRequested)
        {
            clientError = _stopping.IsCancellationRequested ? "host_stopped" : "max_duration";
        }
        finally
        {
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
        var capture = await save.ConfigureAwait(false);
        if (capture.Size == 0 && !complete)
        {
            Emit(remote, "upload_aborted", ("orig_path", request.FileName), ("error", clientError ?? "no data"));
            return;
        }
        (string Key, string? Value)[] details =
        [
            ("orig_path", request.FileName),
            ("complete", complete ? "true" : "false"),
            ("mode", request.Mode),
            ("client_error", clientError),
        ];
        if (capture.Stored is not { } artifact)
        {
            // Over the artifact quota: the upload is still reported, its bytes are not kept.
            Emit(remote, "file_skipped", [.. details, .. capture.SkippedFields()]);
            return;
        }
        Emit(remote, "file_captured",
        [
            ("stored_as", artifact.StoredAs),
            ("sha256", artifact.Sha256),
            ("size", artifact.Size.ToString(CultureInfo.InvariantCulture)),
            ("truncated", artifact.Truncated || overLimit ? "true" : "false"),
            .. details,
        ]);
    }

    private void Emit(IPEndPoint remote, string type, params (string Key, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>>(fields.Length + 2)
        {
            new("src_ip", remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4().ToString() : remote.Address.ToString()),
            new("src_port", remote.Port.ToString(CultureInfo.InvariantCulture)),
        };
        list.AddRange(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)));
        Context.Events.Publish(new HoneypotEvent(Context.Time.GetUtcNow(), Context.DeckyName, "tftp", type, list));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var running = _transfers.Values.ToArray();
        await Task.WhenAny(Task.WhenAll(running), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private sealed record Negotiated(int BlockSize, TimeSpan Timeout, long? TransferSize, IReadOnlyList<KeyValuePair<string, string>> Accepted);

    private readonly record struct Answer(byte[] Packet, string? Error);

    /// <summary>One transfer's socket: send, and send-and-wait with retransmission.</summary>
    private sealed class Transfer(Socket socket, Negotiated options, CancellationToken token)
    {
        private readonly byte[] _buffer = new byte[MaxBlockSize + 4];

        public Negotiated Options => options;

        public CancellationToken Token => token;

        public async Task SendAsync(byte[] packet) => await socket.SendAsync(packet, SocketFlags.None, token).ConfigureAwait(false);

        /// <summary>
        /// Sends <paramref name="packet"/> and waits for the answer <paramref name="expected"/> accepts, resending on
        /// each timeout; an ERROR from the client ends the wait with its message. Null when the client went silent.
        /// </summary>
        public async Task<Answer?> ExchangeAsync(byte[] packet, Func<byte[], bool> expected)
        {
            for (var attempt = 0; attempt <= Retries; attempt++)
            {
                await SendAsync(packet).ConfigureAwait(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(token);
                wait.CancelAfter(options.Timeout);
                try
                {
                    while (true)
                    {
                        var read = await socket.ReceiveAsync(_buffer, SocketFlags.None, wait.Token).ConfigureAwait(false);
                        var received = _buffer.AsSpan(0, read).ToArray();
                        if (TftpPacket.Opcode(received) == TftpOpcode.Error)
                        {
                            var message = received.Length > 4 ? Encoding.Latin1.GetString(received.AsSpan(4)).TrimEnd('\0') : string.Empty;
                            return new Answer(received, message.Length > 256 ? message[..256] : message.Length == 0 ? "error" : message);
                        }
                        if (expected(received))
                        {
                            return new Answer(received, null);
                        }
                        // A duplicate of an earlier ACK or DATA: ignored (answering it is the Sorcerer's Apprentice bug).
                    }
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    // Timed out: resend.
                }
            }
            return null;
        }
    }
}
