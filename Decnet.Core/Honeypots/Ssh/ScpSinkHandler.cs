using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Shell;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// The receiving end of legacy scp (<c>scp -t</c>, what <c>scp -O</c> and many bots run): each
/// <c>C&lt;mode&gt; &lt;size&gt; &lt;name&gt;</c> file becomes an artifact. Directory (D/E) and time (T)
/// records are acknowledged so recursive copies proceed. Every file, even an empty one, takes one of the
/// session's artifact slots; past them the copy fails with "Disk quota exceeded".
/// </summary>
public sealed class ScpSinkHandler(SshServerSession session, SshChannel channel, string command) : ISshChannelHandler
{
    private const int MaxControlLine = 4096;

    private readonly StringBuilder _control = new();
    private readonly List<string> _directories = [];
    private BoundedUpload? _upload;
    private string _fileName = "";
    private long _remaining;
    private bool _awaitTerminator;
    private bool _finished;

    public static bool IsScpSink(string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 2 && (words[0] == "scp" || words[0].EndsWith("/scp", StringComparison.Ordinal)) && words.Skip(1).Any(w => w.StartsWith('-') && w.Contains('t', StringComparison.Ordinal));
    }

    private string Target
    {
        get
        {
            var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var path = words.Length > 0 && !words[^1].StartsWith('-') ? words[^1] : ".";
            return ShellFileSystem.Normalize(Home, path.Trim('\'', '"'), Home);
        }
    }

    private string Home => session.AuthenticatedUser is null or "root" ? "/root" : "/home/" + session.AuthenticatedUser;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        session.Connection.Emit("command", ("cmd", SshServerSession.Truncate(command)), ("cwd", Home), ("user", session.AuthenticatedUser));
        return Ack(cancellationToken);
    }

    public async Task OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var offset = 0;
        while (offset < data.Length && !_finished)
        {
            if (_upload is not null && _remaining > 0)
            {
                var take = (int)Math.Min(_remaining, data.Length - offset);
                _upload.Write(_upload.Size, data.Span.Slice(offset, take));
                _remaining -= take;
                offset += take;
                if (_remaining == 0)
                {
                    _awaitTerminator = true;
                }
                continue;
            }
            if (_awaitTerminator)
            {
                _awaitTerminator = false;
                offset++;
                await CompleteFileAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            var b = data.Span[offset++];
            if (b != '\n')
            {
                if (_control.Length >= MaxControlLine)
                {
                    await FailAsync("scp: protocol error: control line too long", cancellationToken).ConfigureAwait(false);
                    return;
                }
                _control.Append((char)b);
                continue;
            }
            await ControlAsync(_control.ToString(), cancellationToken).ConfigureAwait(false);
            _control.Clear();
        }
    }

    private async Task ControlAsync(string line, CancellationToken cancellationToken)
    {
        if (line.Length == 0)
        {
            await FailAsync("scp: protocol error: empty control record", cancellationToken).ConfigureAwait(false);
            return;
        }
        switch (line[0])
        {
            case 'T':
                await Ack(cancellationToken).ConfigureAwait(false);
                return;
            case 'E':
                if (_directories.Count > 0)
                {
                    _directories.RemoveAt(_directories.Count - 1);
                }
                await Ack(cancellationToken).ConfigureAwait(false);
                return;
            case 'C' or 'D':
                var parts = line[1..].Split(' ', 3);
                if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) || parts[2].Contains('/', StringComparison.Ordinal) || parts[2] is "." or "..")
                {
                    await FailAsync("scp: protocol error: bad record", cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (line[0] == 'D')
                {
                    if (_directories.Count < 32)
                    {
                        _directories.Add(parts[2]);
                        // Make the tree visible to the attacker's next "ls", as a real copy would.
                        session.FileSystem.CreateDirectory(string.Join('/', [Target.TrimEnd('/'), .. _directories]), session.AuthenticatedUser ?? "root");
                    }
                    await Ack(cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (session.Connection.ArtifactSlotsExhausted)
                {
                    // Each record would be a file, even an empty one: past the session's slots the copy ends.
                    session.ReportUploadSlotsExhausted(string.Join('/', [Target.TrimEnd('/'), .. _directories, parts[2]]), "scp");
                    await FailAsync($"scp: {parts[2]}: Disk quota exceeded", cancellationToken).ConfigureAwait(false);
                    return;
                }
                _fileName = parts[2];
                _upload = new BoundedUpload(session.Service.Persona.MaxUploadBytes, session.Uploads);
                _remaining = size;
                _awaitTerminator = size == 0;
                await Ack(cancellationToken).ConfigureAwait(false);
                return;
            default:
                await FailAsync("scp: protocol error: unexpected <newline>", cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    private async Task CompleteFileAsync(CancellationToken cancellationToken)
    {
        var upload = _upload!;
        _upload = null;
        var target = Target;
        var directory = session.FileSystem.IsDirectory(target) || _directories.Count > 0;
        var path = directory ? string.Join('/', [target.TrimEnd('/'), .. _directories, _fileName]) : target;
        var user = session.AuthenticatedUser ?? "";
        await new SshArtifactStore(session.Connection, session.Service.Persona.MaxUploadBytes).StoreAsync(upload, path, user, "scp", cancellationToken).ConfigureAwait(false);
        if (!upload.OverCap)
        {
            session.FileSystem.Write(path, upload.ToArray(), false, user);
        }
        await Ack(cancellationToken).ConfigureAwait(false);
    }

    private Task Ack(CancellationToken cancellationToken) => channel.WriteAsync(new byte[] { 0 }, cancellationToken);

    private async Task FailAsync(string message, CancellationToken cancellationToken)
    {
        _finished = true;
        await channel.WriteAsync(Encoding.UTF8.GetBytes("\x01" + message + "\n"), cancellationToken).ConfigureAwait(false);
        await channel.FinishAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public Task OnEofAsync(CancellationToken cancellationToken)
    {
        _finished = true;
        return channel.FinishAsync(0, cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
