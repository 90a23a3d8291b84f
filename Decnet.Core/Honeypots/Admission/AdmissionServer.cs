using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Admission;

/// <summary>Bounds of the admission service itself: who may connect and how much one connection may hold.</summary>
public sealed class AdmissionServerLimits
{
    /// <summary>Connections at once: one per service container, with room for restarts.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Leases one connection may hold; 0 means the decky cap (one container serves one decky).</summary>
    public int MaxLeasesPerConnection { get; init; }
}

/// <summary>
/// The host-wide session admission of the Docker runtime: one <see cref="SessionAdmission"/> that every
/// service container of every decky on this host asks over a Unix socket (<see cref="AdmissionProtocol"/>),
/// so one source address is held to its share of a decky and of the host, not to a share per container.
/// The socket is owner-only (0600) in an owner-only folder; every lease dies with its connection.
/// </summary>
public sealed class AdmissionServer : IAsyncDisposable, IDisposable
{
    // sockaddr_un.sun_path is 108 bytes, NUL included.
    private const int MaxSocketPathBytes = 107;

    private readonly SessionAdmission _admission;
    private readonly AdmissionServerLimits _limits;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    public AdmissionServer(string socketPath, SessionAdmission admission, ILogger logger, AdmissionServerLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        ArgumentNullException.ThrowIfNull(admission);
        ArgumentNullException.ThrowIfNull(logger);
        SocketPath = Path.GetFullPath(socketPath);
        if (Encoding.UTF8.GetByteCount(SocketPath) > MaxSocketPathBytes)
        {
            throw new ArgumentException($"The admission socket path '{SocketPath}' is longer than the {MaxSocketPathBytes} bytes a Unix socket address holds.", nameof(socketPath));
        }
        _admission = admission;
        _logger = logger;
        _limits = limits ?? new AdmissionServerLimits();
        MaxLeasesPerConnection = _limits.MaxLeasesPerConnection > 0 ? _limits.MaxLeasesPerConnection : admission.Options.MaxSessionsPerDecky;
    }

    public string SocketPath { get; }

    public SessionAdmission Admission => _admission;

    public int MaxLeasesPerConnection { get; }

    /// <summary>Client connections open right now.</summary>
    public int Connections
    {
        get
        {
            lock (_gate)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Creates the owner-only folder, replaces a stale socket of an earlier process and starts accepting.</summary>
    public void Start()
    {
        var directory = Path.GetDirectoryName(SocketPath)!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.Delete(SocketPath);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _logger.LogInformation("Session admission for service containers listens on {Socket}", SocketPath);
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _logger.LogDebug(ex, "Admission accept failed");
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            lock (_gate)
            {
                if (_connections.Count >= _limits.MaxConnections)
                {
                    client.Dispose();
                    continue;
                }
                var connection = Task.Run(() => ServeAsync(client, token), CancellationToken.None);
                _connections.Add(connection);
                _ = connection.ContinueWith(
                    done =>
                    {
                        lock (_gate)
                        {
                            _connections.Remove(done);
                        }
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken token)
    {
        var leases = new Dictionary<long, (string Decky, IPAddress Source)>();
        long nextLease = 0;
        await using var stream = new NetworkStream(client, ownsSocket: true);
        var reader = new RequestReader(stream);
        try
        {
            while (!token.IsCancellationRequested)
            {
                var line = await reader.ReadAsync(token).ConfigureAwait(false);
                if (line.Status == LineStatus.EndOfStream)
                {
                    return;
                }
                if (line.Status == LineStatus.TooLong)
                {
                    // No request is this long: the peer does not speak the protocol, and it is cut off.
                    await ReplyAsync(stream, "ERR line too long", token).ConfigureAwait(false);
                    return;
                }
                var reply = Handle(line.Text, leases, ref nextLease);
                await ReplyAsync(stream, reply, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The container stopped or died; its leases go with it below.
        }
        finally
        {
            foreach (var (decky, source) in leases.Values)
            {
                _admission.Release(decky, source);
            }
        }
    }

    private string Handle(string line, Dictionary<long, (string Decky, IPAddress Source)> leases, ref long nextLease)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 3 && parts[0] == "ACQUIRE")
        {
            if (!AdmissionProtocol.IsDeckyName(parts[1]))
            {
                return "ERR bad decky name";
            }
            if (!IPAddress.TryParse(parts[2], out var source))
            {
                return "ERR bad address";
            }
            if (leases.Count >= MaxLeasesPerConnection)
            {
                return "REFUSED " + AdmissionProtocol.ConnectionFull;
            }
            var refusal = _admission.TryAdmit(parts[1], source);
            if (refusal != AdmissionRefusal.None)
            {
                return "REFUSED " + AdmissionProtocol.ReasonOf(refusal);
            }
            var lease = ++nextLease;
            leases[lease] = (parts[1], source);
            return string.Create(CultureInfo.InvariantCulture, $"OK {lease}");
        }
        if (parts.Length == 2 && parts[0] == "RELEASE")
        {
            if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var lease) || !leases.Remove(lease, out var held))
            {
                return "ERR unknown lease";
            }
            _admission.Release(held.Decky, held.Source);
            return "OK";
        }
        return "ERR expected ACQUIRE <decky> <ip> or RELEASE <lease>";
    }

    private static async Task ReplyAsync(NetworkStream stream, string reply, CancellationToken token) =>
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\n"), token).ConfigureAwait(false);

    /// <summary>
    /// Splits requests with one line's worth of buffer: a line that does not fit is over-long at once, so a
    /// peer streaming bytes without a line feed is cut off instead of read forever.
    /// </summary>
    private sealed class RequestReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[AdmissionProtocol.MaxLineLength + 2];
        private int _count;

        public async ValueTask<LineResult> ReadAsync(CancellationToken token)
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', 0, _count);
                if (newline >= 0)
                {
                    var length = newline > 0 && _buffer[newline - 1] == (byte)'\r' ? newline - 1 : newline;
                    var text = Encoding.ASCII.GetString(_buffer, 0, length);
                    _count -= newline + 1;
                    Buffer.BlockCopy(_buffer, newline + 1, _buffer, 0, _count);
                    return new LineResult(LineStatus.Line, text);
                }
                if (_count == _buffer.Length)
                {
                    return new LineResult(LineStatus.TooLong, string.Empty);
                }
                var read = await stream.ReadAsync(_buffer.AsMemory(_count), token).ConfigureAwait(false);
                if (read == 0)
                {
                    return new LineResult(LineStatus.EndOfStream, string.Empty);
                }
                _count += read;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }
        await Task.WhenAll(open).ConfigureAwait(false);
        _stopping.Dispose();
        if (_listener is not null)
        {
            File.Delete(SocketPath);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
