using System.Text;

namespace Decnet.Core.Honeypots.Hosting;

public enum LineStatus
{
    Line,
    /// <summary>The line exceeded the limit; its bytes were discarded up to the next line feed.</summary>
    TooLong,
    EndOfStream,
}

public readonly record struct LineResult(LineStatus Status, string Text)
{
    public bool IsLine => Status == LineStatus.Line;
}

/// <summary>
/// Reads CRLF- or LF-terminated lines from an attacker-controlled stream without ever holding more
/// than <c>maxLineLength</c> bytes, and hands out the bytes that follow a line (HTTP bodies, SMTP
/// DATA) through <see cref="ReadAsync"/> so nothing buffered is lost.
/// </summary>
public sealed class LineReader
{
    private readonly Stream _stream;
    private readonly int _maxLineLength;
    private readonly Encoding _encoding;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;

    public LineReader(Stream stream, int maxLineLength, Encoding? encoding = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        _stream = stream;
        _maxLineLength = maxLineLength;
        _encoding = encoding ?? Encoding.UTF8;
        // Start small: most sessions send short lines, and idle floods should cost little memory.
        _buffer = new byte[Math.Min(512, maxLineLength + 2)];
    }

    public int MaxLineLength => _maxLineLength;

    /// <summary>Bytes already read from the stream but not yet consumed.</summary>
    public int Buffered => _end - _start;

    public async ValueTask<LineResult> ReadLineAsync(CancellationToken cancellationToken)
    {
        var discarding = false;
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                if (discarding)
                {
                    _start = newline + 1;
                    return new LineResult(LineStatus.TooLong, string.Empty);
                }
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }
                if (length > _maxLineLength)
                {
                    _start = newline + 1;
                    return new LineResult(LineStatus.TooLong, string.Empty);
                }
                var text = _encoding.GetString(_buffer, _start, length);
                _start = newline + 1;
                return new LineResult(LineStatus.Line, text);
            }
            if (_end - _start > _maxLineLength + 1)
            {
                // Keep only the state "inside an over-long line": the bytes themselves are worthless.
                discarding = true;
                _start = _end = 0;
            }
            if (_eof || !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                if (discarding)
                {
                    return new LineResult(LineStatus.TooLong, string.Empty);
                }
                if (_end > _start)
                {
                    // A final line without terminator still counts: attackers often omit it.
                    var text = _encoding.GetString(_buffer, _start, _end - _start);
                    _start = _end = 0;
                    return new LineResult(LineStatus.Line, text);
                }
                return new LineResult(LineStatus.EndOfStream, string.Empty);
            }
        }
    }

    /// <summary>Reads raw bytes, first from what line reading buffered, then from the stream.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }
        if (_eof)
        {
            return 0;
        }
        var read = await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _eof = true;
        }
        return read;
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes; false if the stream ended first.</summary>
    public async ValueTask<bool> ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!destination.IsEmpty)
        {
            var read = await ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            destination = destination[read..];
        }
        return true;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxLineLength + 2));
            if (_end == _buffer.Length)
            {
                // Full at the cap: the caller's overflow check turns this into a discard.
                return true;
            }
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _eof = true;
            return false;
        }
        _end += read;
        return true;
    }
}
