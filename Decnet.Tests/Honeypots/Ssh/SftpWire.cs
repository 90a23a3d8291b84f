using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>
/// Hand-made SFTP v3 requests carried by the real OpenSSH client (<c>ssh -s ... sftp</c>): the client does
/// the SSH transport, authentication and the subsystem request; this class writes the SFTP frames a stock
/// client never would (a WRITE at a huge offset) and reads the replies.
/// </summary>
public sealed class SftpWire : IAsyncDisposable
{
    public const uint Ok = 0;
    public const uint Failure = 4;

    private const byte Init = 1, Open = 3, Close = 4, Write = 6, Status = 101, Handle = 102;
    private const uint OpenWrite = 0x02, OpenCreate = 0x08, OpenTruncate = 0x10;

    private readonly Process _process;
    private readonly Stream _toServer;
    private readonly Stream _fromServer;
    private readonly Task<string> _stderr;
    private uint _nextId = 1;

    private SftpWire(Process process)
    {
        _process = process;
        _toServer = process.StandardInput.BaseStream;
        _fromServer = process.StandardOutput.BaseStream;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static async Task<SftpWire> OpenAsync(SshTestHost host, string password = "admin")
    {
        var start = new ProcessStartInfo("sshpass")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-p", password, "ssh", .. host.SshOptions(), "-p", host.Port.ToString(CultureInfo.InvariantCulture), "-s", "root@127.0.0.1", "sftp"])
        {
            start.ArgumentList.Add(arg);
        }
        var wire = new SftpWire(Process.Start(start)!);
        await wire.SendAsync([Init, 0, 0, 0, 3]);
        var version = await wire.ReceiveAsync();
        Assert.True(version[0] == 2, $"expected SSH_FXP_VERSION, got type {version[0]}");
        return wire;
    }

    /// <summary>Opens <paramref name="path"/> for writing (create, truncate); the handle, or null with the status code.</summary>
    public async Task<(byte[]? Handle, uint Status)> OpenForWriteAsync(string path)
    {
        var id = _nextId++;
        var body = new List<byte> { Open };
        AppendUInt32(body, id);
        AppendString(body, Encoding.UTF8.GetBytes(path));
        AppendUInt32(body, OpenWrite | OpenCreate | OpenTruncate);
        AppendUInt32(body, 0);
        await SendAsync([.. body]);
        var reply = await ReceiveAsync();
        return reply[0] switch
        {
            Handle => (ReadString(reply, 5), Ok),
            Status => (null, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(5))),
            _ => throw new InvalidDataException($"unexpected reply type {reply[0]} to OPEN"),
        };
    }

    public async Task<uint> WriteAsync(byte[] handle, ulong offset, byte[] data)
    {
        var id = _nextId++;
        var body = new List<byte> { Write };
        AppendUInt32(body, id);
        AppendString(body, handle);
        var offsetBytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(offsetBytes, offset);
        body.AddRange(offsetBytes);
        AppendString(body, data);
        await SendAsync([.. body]);
        return ExpectStatus(await ReceiveAsync());
    }

    public async Task<uint> CloseAsync(byte[] handle)
    {
        var id = _nextId++;
        var body = new List<byte> { Close };
        AppendUInt32(body, id);
        AppendString(body, handle);
        await SendAsync([.. body]);
        return ExpectStatus(await ReceiveAsync());
    }

    private static uint ExpectStatus(byte[] reply) =>
        reply[0] == Status ? BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(5)) : throw new InvalidDataException($"expected SSH_FXP_STATUS, got type {reply[0]}");

    private async Task SendAsync(byte[] body)
    {
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        await _toServer.WriteAsync(frame);
        await _toServer.FlushAsync();
    }

    private async Task<byte[]> ReceiveAsync()
    {
        // A deadline, not a speed requirement: the first reply waits for the SSH handshake on a loaded machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var header = new byte[4];
        try
        {
            await _fromServer.ReadExactlyAsync(header, timeout.Token);
            var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
            await _fromServer.ReadExactlyAsync(body, timeout.Token);
            return body;
        }
        catch (Exception ex) when (ex is EndOfStreamException or OperationCanceledException)
        {
            throw new InvalidDataException("no SFTP reply; ssh said: " + (_process.HasExited ? await _stderr : "(still running)"), ex);
        }
    }

    private static byte[] ReadString(byte[] buffer, int offset)
    {
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(offset));
        return buffer.AsSpan(offset + 4, length).ToArray();
    }

    private static void AppendUInt32(List<byte> body, uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void AppendString(List<byte> body, byte[] value)
    {
        AppendUInt32(body, (uint)value.Length);
        body.AddRange(value);
    }

    public async ValueTask DisposeAsync()
    {
        _toServer.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
