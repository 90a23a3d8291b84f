using System.Text;
using Decnet.Core.Honeypots.Shell;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// A session channel running the emulated shell: interactive over a pty (line editing, prompt,
/// asciinema recording), line-by-line without a pty (<c>ssh host &lt; script</c>), or one <c>exec</c>.
/// </summary>
public sealed class ShellChannelHandler(SshServerSession session, SshChannel channel, string? command) : ISshChannelHandler
{
    private readonly StringBuilder _pipeLine = new();
    private CommandInterpreter? _interpreter;
    private InteractiveTerminal? _terminal;
    private AsciicastRecorder? _recorder;
    private int _lastExit;
    private bool _finished;

    private int MaxLine => session.Connection.Context.Limits.MaxLineLength;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = session.Connection;
        var context = connection.Context;
        _interpreter = new CommandInterpreter(new ShellContext
        {
            Hostname = session.Service.Persona.Hostname,
            User = session.AuthenticatedUser ?? "root",
            Distro = PersonaFileSystem.Distro(context.Distro),
            FileSystem = session.FileSystem,
            Time = context.Time,
            RemoteIp = connection.RemoteIp,
            // Events of a recorded shell name the recording, so a command row leads to its replay.
            Emit = (type, fields) => connection.Emit(type, _recorder is { } recorder ? [.. fields, ("recording", recorder.Name)] : fields),
        });
        foreach (var (name, value) in channel.Environment)
        {
            _interpreter.SetEnvironment(name, value);
        }
        _interpreter.SetEnvironment("TERM", channel.Term);

        if (command is not null)
        {
            var result = _interpreter.Execute(command.Length > MaxLine ? command[..MaxLine] : command);
            await WriteAsync(channel.HasPty ? InteractiveTerminal.Crlf(result.Output) : result.Output, cancellationToken).ConfigureAwait(false);
            await FinishAsync(result.ExitCode, cancellationToken).ConfigureAwait(false);
            return;
        }

        _recorder = await AsciicastRecorder.TryStartAsync(connection, channel.LocalId, channel.Columns, channel.Rows, channel.Term,
            PersonaFileSystem.Distro(context.Distro).Shell, session.Service.Persona.MaxRecordingBytes, session.AuthenticatedUser, cancellationToken).ConfigureAwait(false);
        if (channel.HasPty)
        {
            _terminal = new InteractiveTerminal(_interpreter, WriteAsync, MaxLine);
            await _terminal.StartAsync(PersonaFileSystem.LoginBanner(context.Distro, session.Service.Persona.Hostname, context.Time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_finished || _interpreter is null)
        {
            return;
        }
        if (command is not null)
        {
            return;
        }
        var text = Encoding.UTF8.GetString(data.Span);
        if (_recorder is not null)
        {
            await _recorder.InputAsync(text, cancellationToken).ConfigureAwait(false);
        }
        if (_terminal is not null)
        {
            if (!await _terminal.FeedAsync(data, cancellationToken).ConfigureAwait(false))
            {
                await FinishAsync(_terminal.ExitCode, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        foreach (var c in text)
        {
            if (c == '\n')
            {
                if (!await RunPipedLineAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            else if (_pipeLine.Length < MaxLine)
            {
                _pipeLine.Append(c);
            }
        }
    }

    private async Task<bool> RunPipedLineAsync(CancellationToken cancellationToken)
    {
        var line = _pipeLine.ToString().TrimEnd('\r');
        _pipeLine.Clear();
        var result = _interpreter!.Execute(line);
        _lastExit = result.ExitCode;
        await WriteAsync(result.Output, cancellationToken).ConfigureAwait(false);
        if (result.Exit)
        {
            await FinishAsync(result.ExitCode, cancellationToken).ConfigureAwait(false);
            return false;
        }
        return true;
    }

    public async Task OnEofAsync(CancellationToken cancellationToken)
    {
        if (_finished || command is not null)
        {
            return;
        }
        if (_terminal is null && _pipeLine.Length > 0 && !await RunPipedLineAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        await FinishAsync(_terminal?.ExitCode ?? _lastExit, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        if (text.Length == 0)
        {
            return;
        }
        if (_recorder is not null)
        {
            await _recorder.OutputAsync(text, cancellationToken).ConfigureAwait(false);
        }
        await channel.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    private Task FinishAsync(int exitCode, CancellationToken cancellationToken)
    {
        _finished = true;
        return channel.FinishAsync(exitCode, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_recorder is { } recorder)
        {
            _recorder = null;
            await recorder.DisposeAsync().ConfigureAwait(false);
            session.Connection.Emit(AsciicastRecorder.RecordedEvent, recorder.RecordedFields(session.AuthenticatedUser, session.Connection.SessionId));
        }
    }
}
