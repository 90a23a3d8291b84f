using System.Text;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>
/// The line discipline of an interactive session over a pty (SSH) or a character-mode Telnet link:
/// echo, backspace, CR/LF, Ctrl-C, Ctrl-D, Ctrl-U, arrow-key history, and LF→CRLF on output.
/// Input per line is bounded; everything else the attacker types beyond it is dropped.
/// </summary>
public sealed class InteractiveTerminal(CommandInterpreter interpreter, Func<string, CancellationToken, Task> write, int maxLineLength)
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _line = new();
    private int _escape;
    private bool _lastWasCr;
    private int _historyIndex = -1;

    public int ExitCode { get; private set; }

    public CommandInterpreter Interpreter => interpreter;

    public Task StartAsync(string? banner, CancellationToken cancellationToken) =>
        write(Crlf(banner ?? "") + interpreter.Prompt, cancellationToken);

    /// <summary>Feeds raw input; returns false once the shell has ended (exit, logout, Ctrl-D).</summary>
    public async Task<bool> FeedAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        var chars = new char[_decoder.GetCharCount(input.Span, flush: false)];
        _decoder.GetChars(input.Span, chars, flush: false);
        var echo = new StringBuilder();
        foreach (var c in chars)
        {
            if (_escape > 0)
            {
                HandleEscape(c, echo);
                continue;
            }
            var wasCr = _lastWasCr;
            _lastWasCr = c == '\r';
            switch (c)
            {
                case '\r':
                case '\n' when !wasCr:
                    echo.Append("\r\n");
                    await write(echo.ToString(), cancellationToken).ConfigureAwait(false);
                    echo.Clear();
                    if (!await SubmitAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return false;
                    }
                    break;
                case '\n' or '\0':
                    break;
                case '\x7f' or '\b':
                    if (_line.Length > 0)
                    {
                        _line.Length--;
                        echo.Append("\b \b");
                    }
                    break;
                case '\x03':
                    _line.Clear();
                    echo.Append("^C\r\n").Append(interpreter.Prompt);
                    ExitCode = 130;
                    break;
                case '\x04':
                    if (_line.Length == 0)
                    {
                        await write(echo + "logout\r\n", cancellationToken).ConfigureAwait(false);
                        return false;
                    }
                    break;
                case '\x15':
                    ReplaceLine("", echo);
                    break;
                case '\x0c':
                    echo.Append("\u001b[H\u001b[2J").Append(interpreter.Prompt).Append(_line);
                    break;
                case '\x1b':
                    _escape = 1;
                    break;
                default:
                    if (c >= ' ' && _line.Length < maxLineLength)
                    {
                        _line.Append(c);
                        echo.Append(c);
                    }
                    break;
            }
        }
        if (echo.Length > 0)
        {
            await write(echo.ToString(), cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    private async Task<bool> SubmitAsync(CancellationToken cancellationToken)
    {
        var line = _line.ToString();
        _line.Clear();
        _historyIndex = -1;
        var result = interpreter.Execute(line);
        ExitCode = result.ExitCode;
        if (result.Exit)
        {
            await write(Crlf(result.Output) + "logout\r\n", cancellationToken).ConfigureAwait(false);
            return false;
        }
        await write(Crlf(result.Output) + interpreter.Prompt, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void HandleEscape(char c, StringBuilder echo)
    {
        if (_escape == 1)
        {
            _escape = c is '[' or 'O' ? 2 : 0;
            return;
        }
        if (c is >= '0' and <= '9' or ';')
        {
            return;
        }
        _escape = 0;
        var history = interpreter.History;
        if (c == 'A' && history.Count > 0)
        {
            _historyIndex = _historyIndex < 0 ? history.Count - 1 : Math.Max(0, _historyIndex - 1);
            ReplaceLine(history[_historyIndex], echo);
        }
        else if (c == 'B' && _historyIndex >= 0)
        {
            _historyIndex++;
            if (_historyIndex >= history.Count)
            {
                _historyIndex = -1;
                ReplaceLine("", echo);
            }
            else
            {
                ReplaceLine(history[_historyIndex], echo);
            }
        }
    }

    private void ReplaceLine(string text, StringBuilder echo)
    {
        echo.Append('\b', _line.Length).Append(' ', _line.Length).Append('\b', _line.Length);
        _line.Clear();
        var kept = text.Length > maxLineLength ? text[..maxLineLength] : text;
        _line.Append(kept);
        echo.Append(kept);
    }

    /// <summary>A terminal in cooked mode turns LF into CRLF (onlcr).</summary>
    public static string Crlf(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
}
