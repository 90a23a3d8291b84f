using System.Text;

namespace Decnet.Web.Components.Controls.Replay;

/// <summary>
/// Just enough of a VT100 to replay what the decoy shell writes: printable text with wrapping, CR, LF,
/// backspace, tab, cursor moves and positioning, erase in line and display. Colours and every other
/// escape sequence are consumed and ignored, so attacker-typed bytes never reach the page as markup
/// (the screen is plain text, rendered encoded). Bounded: lines are cut at the width and at most
/// <see cref="MaxLines"/> lines are kept.
/// </summary>
public sealed class TerminalScreen
{
    public const int MaxLines = 2000;
    private const int MaxSequence = 64;

    private readonly List<StringBuilder> _lines = [new()];
    private readonly StringBuilder _sequence = new();
    private State _state = State.Text;
    private int _row;
    private int _column;

    public TerminalScreen(int width, int height)
    {
        Width = Math.Clamp(width, 10, 1000);
        Height = Math.Clamp(height, 2, 1000);
    }

    public int Width { get; }
    public int Height { get; }

    private enum State
    {
        Text,
        Escape,
        Csi,
        Osc,
        OscEscape,
        Charset,
    }

    /// <summary>The visible screen: the last <see cref="Height"/> lines, trailing spaces trimmed.</summary>
    public string Text
    {
        get
        {
            var top = Math.Max(0, _lines.Count - Height);
            return string.Join('\n', _lines.Skip(top).Select(l => l.ToString().TrimEnd()));
        }
    }

    /// <summary>Everything kept, scrollback included, without the blank lines below the last output.</summary>
    public string Scrollback => string.Join('\n', _lines.Select(l => l.ToString().TrimEnd())).TrimEnd('\n');

    public void Write(string data)
    {
        foreach (var c in data)
        {
            switch (_state)
            {
                case State.Text:
                    Print(c);
                    break;
                case State.Escape:
                    _state = c switch
                    {
                        '[' => State.Csi,
                        ']' => State.Osc,
                        // Character set designations (ESC ( B ...) carry one more byte.
                        '(' or ')' or '*' or '+' or '#' or '%' => State.Charset,
                        _ => State.Text,
                    };
                    _sequence.Clear();
                    break;
                case State.Csi:
                    if (c is >= '@' and <= '~')
                    {
                        Control(c, _sequence.ToString());
                        _state = State.Text;
                    }
                    else if (_sequence.Length < MaxSequence)
                    {
                        _sequence.Append(c);
                    }
                    else
                    {
                        _state = State.Text;
                    }
                    break;
                case State.Osc:
                    _state = c switch
                    {
                        '\a' => State.Text,
                        '\u001b' => State.OscEscape,
                        _ => State.Osc,
                    };
                    break;
                case State.OscEscape or State.Charset:
                    _state = State.Text;
                    break;
            }
        }
    }

    private void Print(char c)
    {
        switch (c)
        {
            case '\u001b':
                _state = State.Escape;
                return;
            case '\r':
                _column = 0;
                return;
            case '\n':
                LineFeed();
                return;
            case '\b':
                _column = Math.Max(0, _column - 1);
                return;
            case '\t':
                _column = Math.Min(Width - 1, (_column / 8 + 1) * 8);
                return;
        }
        if (char.IsControl(c))
        {
            return;
        }
        if (_column >= Width)
        {
            _column = 0;
            LineFeed();
        }
        var line = _lines[_row];
        if (line.Length < _column)
        {
            line.Append(' ', _column - line.Length);
        }
        if (line.Length == _column)
        {
            line.Append(c);
        }
        else
        {
            line[_column] = c;
        }
        _column++;
    }

    private void LineFeed()
    {
        _row++;
        if (_row == _lines.Count)
        {
            _lines.Add(new StringBuilder());
        }
        if (_lines.Count > MaxLines)
        {
            _lines.RemoveAt(0);
            _row--;
        }
    }

    private void Control(char final, string parameters)
    {
        var values = parameters.TrimStart('?').Split(';');
        int Arg(int index, int fallback) =>
            index < values.Length && int.TryParse(values[index], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? Math.Min(n, 10_000) : fallback;
        var top = Math.Max(0, _lines.Count - Height);
        switch (final)
        {
            case 'A':
                _row = Math.Max(top, _row - Arg(0, 1));
                break;
            case 'B':
                MoveTo(_row + Arg(0, 1));
                break;
            case 'C':
                _column = Math.Min(Width - 1, _column + Arg(0, 1));
                break;
            case 'D':
                _column = Math.Max(0, _column - Arg(0, 1));
                break;
            case 'G':
                _column = Math.Min(Width, Arg(0, 1)) - 1;
                break;
            case 'H' or 'f':
                MoveTo(top + Math.Min(Height, Arg(0, 1)) - 1);
                _column = Math.Min(Width, Arg(1, 1)) - 1;
                break;
            case 'J':
                if (Arg(0, 0) is 2 or 3)
                {
                    // Clear screen: what was visible scrolls away, the cursor keeps its place on the new screen.
                    var keep = _row - top;
                    for (var i = 0; i < Height; i++)
                    {
                        _lines.Add(new StringBuilder());
                    }
                    while (_lines.Count > MaxLines)
                    {
                        _lines.RemoveAt(0);
                    }
                    _row = Math.Max(0, _lines.Count - Height) + keep;
                }
                else if (Arg(0, 0) == 0)
                {
                    EraseLine(0);
                    for (var i = _row + 1; i < _lines.Count; i++)
                    {
                        _lines[i].Clear();
                    }
                }
                break;
            case 'K':
                EraseLine(Arg(0, 0));
                break;
        }
    }

    private void MoveTo(int row)
    {
        while (_lines.Count <= row && _lines.Count < MaxLines)
        {
            _lines.Add(new StringBuilder());
        }
        _row = Math.Min(row, _lines.Count - 1);
    }

    private void EraseLine(int mode)
    {
        var line = _lines[_row];
        switch (mode)
        {
            case 0 when _column < line.Length:
                line.Length = _column;
                break;
            case 1:
                for (var i = 0; i <= Math.Min(_column, line.Length - 1); i++)
                {
                    line[i] = ' ';
                }
                break;
            case 2:
                line.Clear();
                break;
        }
    }
}
