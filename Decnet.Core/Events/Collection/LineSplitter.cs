using System.Text;

namespace Decnet.Core.Events.Collection;

/// <summary>
/// Cuts a byte stream into '\n'-terminated UTF-8 lines with bounded memory: a line longer than
/// <see cref="MaxLineBytes"/> keeps its first <see cref="MaxLineBytes"/> bytes (the parser then flags it as
/// truncated) and the rest is skipped up to its line break. An unterminated tail waits for more bytes.
/// </summary>
public sealed class LineSplitter(int maxLineBytes = Rfc5424Parser.MaxLineLength + 64)
{
    private readonly byte[] _pending = new byte[maxLineBytes];
    private int _count;
    private bool _overflowed;

    public int MaxLineBytes => _pending.Length;

    /// <summary>Bytes consumed so far (complete lines and the pending tail).</summary>
    public long Consumed { get; private set; }

    /// <summary>Lines longer than the limit seen so far.</summary>
    public long Overlong { get; private set; }

    /// <summary>Adds a chunk; every line it completes is added to <paramref name="lines"/> with the stream offset just past its '\n'.</summary>
    public void Append(ReadOnlySpan<byte> chunk, List<(string Line, long EndOffset)> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            var part = newline < 0 ? chunk : chunk[..newline];
            var room = _pending.Length - _count;
            if (part.Length > room)
            {
                _overflowed = true;
            }
            part[..Math.Min(part.Length, room)].CopyTo(_pending.AsSpan(_count));
            _count += Math.Min(part.Length, room);
            if (newline < 0)
            {
                Consumed += chunk.Length;
                return;
            }
            Consumed += newline + 1;
            var length = _count > 0 && _pending[_count - 1] == (byte)'\r' ? _count - 1 : _count;
            if (_overflowed)
            {
                Overlong++;
            }
            lines.Add((Encoding.UTF8.GetString(_pending, 0, length), Consumed));
            _count = 0;
            _overflowed = false;
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Forgets the pending tail and restarts offsets at <paramref name="offset"/> (a new file, a new stream).</summary>
    public void Reset(long offset = 0)
    {
        _count = 0;
        _overflowed = false;
        Consumed = offset;
    }
}
