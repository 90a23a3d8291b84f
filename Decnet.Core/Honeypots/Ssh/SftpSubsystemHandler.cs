using System.Buffers.Binary;
using System.Globalization;
using Decnet.Core.Honeypots.Shell;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// SFTP version 3 (draft-ietf-secsh-filexfer-02) over the persona filesystem: enough for OpenSSH's sftp
/// and SFTP-mode scp to browse, read, and upload. Uploaded files become artifacts when their handle is
/// closed. Request size, handles and buffered input are bounded; writes may not leave holes (only bytes
/// received count), and the session's file slots and the artifact quotas bound what is stored.
/// </summary>
public sealed class SftpSubsystemHandler(SshServerSession session, SshChannel channel) : ISshChannelHandler
{
    private const int MaxPacket = 256 * 1024;
    private const int MaxHandles = 32;
    private const int MaxReadChunk = 64 * 1024;

    private const byte Init = 1, Version = 2, Open = 3, Close = 4, Read = 5, Write = 6, Lstat = 7, Fstat = 8, Setstat = 9, Fsetstat = 10,
        Opendir = 11, Readdir = 12, Remove = 13, Mkdir = 14, Rmdir = 15, Realpath = 16, Stat = 17, Rename = 18, Readlink = 19, Symlink = 20,
        Status = 101, Handle = 102, Data = 103, Name = 104, Attrs = 105;

    private const uint Ok = 0, Eof = 1, NoSuchFile = 2, PermissionDenied = 3, Failure = 4, BadMessage = 5, Unsupported = 8;

    private sealed class OpenHandle(string path)
    {
        public string Path { get; } = path;
        public BoundedUpload? Upload { get; init; }
        public byte[]? Content { get; init; }
        public List<string>? Entries { get; init; }
        public bool Listed { get; set; }
    }

    private readonly Dictionary<string, OpenHandle> _handles = new(StringComparer.Ordinal);
    private readonly List<byte> _input = [];
    private int _nextHandle;

    private string Home => session.AuthenticatedUser is null or "root" ? "/root" : "/home/" + session.AuthenticatedUser;

    private string User => session.AuthenticatedUser ?? "";

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _input.AddRange(data.Span);
        while (_input.Count >= 4)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian([.. _input.GetRange(0, 4)]);
            if (length is 0 or > MaxPacket)
            {
                _input.Clear();
                await channel.FinishAsync(1, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (_input.Count < 4 + length)
            {
                return;
            }
            var packet = _input.GetRange(4, (int)length).ToArray();
            _input.RemoveRange(0, 4 + (int)length);
            byte[] reply;
            try
            {
                reply = await HandleAsync(packet, cancellationToken).ConfigureAwait(false);
            }
            catch (SshProtocolException)
            {
                reply = StatusReply(packet.Length >= 5 ? BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(1)) : 0, BadMessage, "Bad message");
            }
            await channel.WriteAsync(reply, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> HandleAsync(byte[] packet, CancellationToken cancellationToken)
    {
        var reader = new SshReader(packet);
        var type = reader.ReadByte();
        if (type == Init)
        {
            return Frame(new SshWriter().Byte(Version).UInt32(3));
        }
        var id = reader.ReadUInt32();
        var fs = session.FileSystem;
        switch (type)
        {
            case Realpath:
            {
                var path = Resolve(reader.ReadString());
                return NameReply(id, [(path, fs.Get(path))]);
            }
            case Stat or Lstat:
            {
                var node = fs.Get(Resolve(reader.ReadString()));
                return node is null ? StatusReply(id, NoSuchFile, "No such file") : AttrsReply(id, node);
            }
            case Fstat:
            {
                var handle = GetHandle(reader.ReadString());
                if (handle is null)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                var node = fs.Get(handle.Path);
                if (handle.Upload is not null)
                {
                    node = ShellNode.File([], session.Connection.Context.Time.GetUtcNow());
                }
                return node is null ? StatusReply(id, NoSuchFile, "No such file") : AttrsReply(id, node, handle.Upload?.Size);
            }
            case Open:
            {
                var path = Resolve(reader.ReadString());
                var flags = reader.ReadUInt32();
                SkipAttributes(ref reader);
                if (_handles.Count >= MaxHandles)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                var node = fs.Get(path);
                if (node is { IsDirectory: true })
                {
                    return StatusReply(id, Failure, "Failure");
                }
                if ((flags & 0x02) != 0)
                {
                    if (!fs.IsDirectory(ShellFileSystem.Parent(path)))
                    {
                        return StatusReply(id, NoSuchFile, "No such file");
                    }
                    if (session.Connection.ArtifactSlotsExhausted)
                    {
                        session.ReportUploadSlotsExhausted(path, "sftp");
                        return StatusReply(id, Failure, "Disk quota exceeded");
                    }
                    var upload = new BoundedUpload(session.Service.Persona.MaxUploadBytes, session.Uploads);
                    if ((flags & 0x10) == 0 && node is not null)
                    {
                        upload.Write(0, node.Content);
                    }
                    return HandleReply(id, new OpenHandle(path) { Upload = upload });
                }
                return node is null ? StatusReply(id, NoSuchFile, "No such file") : HandleReply(id, new OpenHandle(path) { Content = node.Content });
            }
            case Opendir:
            {
                var path = Resolve(reader.ReadString());
                if (!fs.IsDirectory(path))
                {
                    return StatusReply(id, NoSuchFile, "No such file");
                }
                return _handles.Count >= MaxHandles ? StatusReply(id, Failure, "Failure") : HandleReply(id, new OpenHandle(path) { Entries = [".", "..", .. fs.List(path)] });
            }
            case Readdir:
            {
                var handle = GetHandle(reader.ReadString());
                if (handle?.Entries is null)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                if (handle.Listed)
                {
                    return StatusReply(id, Eof, "End of file");
                }
                handle.Listed = true;
                return NameReply(id, [.. handle.Entries.Select(e => (e, fs.Get(e switch
                {
                    "." => handle.Path,
                    ".." => ShellFileSystem.Parent(handle.Path),
                    _ => handle.Path.TrimEnd('/') + "/" + e,
                })))], longNames: true);
            }
            case Read:
            {
                var handle = GetHandle(reader.ReadString());
                var offset = reader.ReadUInt64();
                var length = (int)Math.Min(reader.ReadUInt32(), MaxReadChunk);
                if (handle?.Content is not { } content)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                if (offset >= (ulong)content.Length)
                {
                    return StatusReply(id, Eof, "End of file");
                }
                var take = (int)Math.Min(length, content.Length - (long)offset);
                return Frame(new SshWriter(take + 16).Byte(Data).UInt32(id).Binary(content.AsSpan((int)offset, take)));
            }
            case Write:
            {
                var handle = GetHandle(reader.ReadString());
                var offset = reader.ReadUInt64();
                var data = reader.ReadBinary();
                // Only bytes actually received count: a write past the end of the data so far would leave
                // a hole (and cost a buffer the size of the offset), so it is refused.
                if (handle?.Upload is null || offset > (ulong)handle.Upload.Size || !handle.Upload.Write((long)offset, data))
                {
                    return StatusReply(id, Failure, "Failure");
                }
                return StatusReply(id, Ok, "Success");
            }
            case Close:
            {
                var key = reader.ReadString();
                var handle = GetHandle(key);
                if (handle is null)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                _handles.Remove(key);
                if (handle.Upload is { } upload)
                {
                    await new SshArtifactStore(session.Connection, session.Service.Persona.MaxUploadBytes).StoreAsync(upload, handle.Path, User, "sftp", cancellationToken).ConfigureAwait(false);
                    if (!upload.OverCap)
                    {
                        fs.Write(handle.Path, upload.ToArray(), false, User);
                    }
                }
                return StatusReply(id, Ok, "Success");
            }
            case Setstat or Fsetstat:
                return StatusReply(id, Ok, "Success");
            case Mkdir:
                return fs.CreateDirectory(Resolve(reader.ReadString()), User) ? StatusReply(id, Ok, "Success") : StatusReply(id, Failure, "Failure");
            case Remove or Rmdir:
            {
                var path = Resolve(reader.ReadString());
                var node = fs.Get(path);
                if (node is null)
                {
                    return StatusReply(id, NoSuchFile, "No such file");
                }
                if (type == Rmdir && fs.List(path).Count > 0)
                {
                    return StatusReply(id, Failure, "Failure");
                }
                return fs.Remove(path, type == Rmdir) ? StatusReply(id, Ok, "Success") : StatusReply(id, PermissionDenied, "Permission denied");
            }
            case Rename:
            {
                var from = Resolve(reader.ReadString());
                var to = Resolve(reader.ReadString());
                if (fs.Get(from) is null)
                {
                    return StatusReply(id, NoSuchFile, "No such file");
                }
                return fs.Get(to) is null && fs.Move(from, to) ? StatusReply(id, Ok, "Success") : StatusReply(id, Failure, "Failure");
            }
            case Readlink or Symlink:
                return StatusReply(id, NoSuchFile, "No such file");
            default:
                return StatusReply(id, Unsupported, "Operation unsupported");
        }
    }

    private OpenHandle? GetHandle(string key) => _handles.GetValueOrDefault(key);

    private string Resolve(string path) => ShellFileSystem.Normalize(Home, path.Length == 0 ? "." : path, Home);

    private byte[] HandleReply(uint id, OpenHandle handle)
    {
        var key = (_nextHandle++).ToString(CultureInfo.InvariantCulture);
        _handles[key] = handle;
        return Frame(new SshWriter().Byte(Handle).UInt32(id).String(key));
    }

    private static void SkipAttributes(ref SshReader reader)
    {
        var flags = reader.ReadUInt32();
        if ((flags & 0x1) != 0)
        {
            reader.ReadUInt64();
        }
        if ((flags & 0x2) != 0)
        {
            reader.ReadUInt32();
            reader.ReadUInt32();
        }
        if ((flags & 0x4) != 0)
        {
            reader.ReadUInt32();
        }
        if ((flags & 0x8) != 0)
        {
            reader.ReadUInt32();
            reader.ReadUInt32();
        }
        if ((flags & 0x80000000) != 0)
        {
            var count = reader.ReadUInt32();
            for (var i = 0; i < count && i < 64; i++)
            {
                reader.ReadBinary();
                reader.ReadBinary();
            }
        }
    }

    private static uint Permissions(ShellNode node)
    {
        uint bits = 0;
        var mode = node.Mode.PadRight(10, '-');
        for (var i = 1; i < 10; i++)
        {
            bits = (bits << 1) | (mode[i] is 'r' or 'w' or 'x' or 's' or 't' ? 1u : 0u);
        }
        return bits | (node.IsDirectory ? 0x4000u : 0x8000u);
    }

    private static SshWriter WriteAttributes(SshWriter writer, ShellNode? node, long? sizeOverride = null)
    {
        if (node is null)
        {
            return writer.UInt32(0);
        }
        var uid = node.Owner == "root" ? 0u : 1000u;
        var time = (uint)Math.Max(0, node.Modified.ToUnixTimeSeconds());
        return writer.UInt32(0x1 | 0x2 | 0x4 | 0x8)
            .UInt64((ulong)(sizeOverride ?? (node.IsDirectory ? 4096 : node.Content.LongLength)))
            .UInt32(uid).UInt32(uid)
            .UInt32(Permissions(node))
            .UInt32(time).UInt32(time);
    }

    private static byte[] AttrsReply(uint id, ShellNode node, long? size = null) => Frame(WriteAttributes(new SshWriter().Byte(Attrs).UInt32(id), node, size));

    private static byte[] NameReply(uint id, IReadOnlyList<(string Name, ShellNode? Node)> entries, bool longNames = false)
    {
        var writer = new SshWriter().Byte(Name).UInt32(id).UInt32((uint)entries.Count);
        foreach (var (name, node) in entries)
        {
            var longName = longNames && node is not null
                ? $"{node.Mode} {(node.IsDirectory ? 2 : 1),3} {node.Owner,-8} {node.Owner,-8} {(node.IsDirectory ? 4096 : node.Content.LongLength),8} {node.Modified.ToString("MMM dd HH:mm", CultureInfo.InvariantCulture)} {name}"
                : name;
            WriteAttributes(writer.String(name).String(longName), node);
        }
        return Frame(writer);
    }

    private static byte[] StatusReply(uint id, uint code, string message) =>
        Frame(new SshWriter().Byte(Status).UInt32(id).UInt32(code).String(message).String(""));

    private static byte[] Frame(SshWriter body) => new SshWriter(body.Length + 4).Binary(body.Span).ToArray();

    public Task OnEofAsync(CancellationToken cancellationToken) => channel.FinishAsync(0, cancellationToken);

    /// <summary>An upload whose handle was never closed (client killed mid-transfer) is still captured.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var handle in _handles.Values.Where(h => h.Upload is not null).ToList())
        {
            await new SshArtifactStore(session.Connection, session.Service.Persona.MaxUploadBytes).StoreAsync(handle.Upload!, handle.Path, User, "sftp", CancellationToken.None).ConfigureAwait(false);
        }
        _handles.Clear();
    }
}
