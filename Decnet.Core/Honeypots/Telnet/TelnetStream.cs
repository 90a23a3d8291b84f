using System.Text;

namespace Decnet.Core.Honeypots.Telnet;

/// <summary>
/// Telnet (RFC 854) framing over a byte stream: strips IAC commands from the data, answers option
/// negotiation (we WILL ECHO and SGA so the client goes to character mode, and DO NAWS to learn the
/// window size), refuses every other option once, and bounds subnegotiation buffers.
/// </summary>
public sealed class TelnetStream(Stream stream)
{
    public const byte Iac = 255, Dont = 254, Do = 253, Wont = 252, Will = 251, Sb = 250, Se = 240;
    public const byte Echo = 1, SuppressGoAhead = 3, WindowSize = 31;

    private const int MaxSubnegotiation = 64;

    private readonly byte[] _buffer = new byte[4096];
    private readonly HashSet<(byte, byte)> _answered = [];
    private readonly List<byte> _pending = [];
    private readonly List<byte> _subnegotiation = [];
    private int _state;
    private byte _verb;
    private bool _lastWasCr;
    private bool _skipLineFeed;

    public int Columns { get; private set; } = 80;
    public int Rows { get; private set; } = 24;

    public Task NegotiateAsync(CancellationToken cancellationToken) =>
        WriteRawAsync([Iac, Will, Echo, Iac, Will, SuppressGoAhead, Iac, Do, WindowSize], cancellationToken);

    public Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        // A literal 0xFF in data must be doubled (RFC 854).
        return WriteRawAsync(bytes.Contains(Iac) ? [.. bytes.SelectMany(b => b == Iac ? new[] { Iac, Iac } : [b])] : bytes, cancellationToken);
    }

    private async Task WriteRawAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next chunk of user data (never empty); throws at end of stream.</summary>
    public async Task<ReadOnlyMemory<byte>> ReadDataAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count > 0)
        {
            var pending = _pending.ToArray();
            _pending.Clear();
            return pending;
        }
        while (true)
        {
            var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }
            var data = new List<byte>(read);
            var replies = new List<byte>();
            for (var i = 0; i < read; i++)
            {
                Decode(_buffer[i], data, replies);
            }
            if (replies.Count > 0)
            {
                await WriteRawAsync([.. replies], cancellationToken).ConfigureAwait(false);
            }
            if (_skipLineFeed && data.Count > 0)
            {
                // The LF or NUL of a CR that ended a login line arrived in a later segment.
                _skipLineFeed = false;
                if (data[0] is (byte)'\n' or 0)
                {
                    data.RemoveAt(0);
                }
            }
            if (data.Count > 0)
            {
                return data.ToArray();
            }
        }
    }

    /// <summary>Reads one line for the login prompts; echoes it back when asked (username, not password).</summary>
    public async Task<string> ReadLineAsync(bool echo, int maxLength, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            var data = await ReadDataAsync(cancellationToken).ConfigureAwait(false);
            var echoed = new StringBuilder();
            for (var i = 0; i < data.Length; i++)
            {
                var c = (char)data.Span[i];
                var wasCr = _lastWasCr;
                _lastWasCr = c == '\r';
                if (c == '\r' || (c == '\n' && !wasCr))
                {
                    // Keep what followed the line for the next reader.
                    var rest = data.Span[(i + 1)..];
                    if (rest.Length > 0 && rest[0] is (byte)'\n' or 0 && c == '\r')
                    {
                        rest = rest[1..];
                        _lastWasCr = false;
                    }
                    _pending.AddRange(rest);
                    _skipLineFeed = c == '\r' && _pending.Count == 0 && _lastWasCr;
                    if (echo && echoed.Length > 0)
                    {
                        await WriteAsync(echoed.ToString(), cancellationToken).ConfigureAwait(false);
                    }
                    if (echo)
                    {
                        await WriteAsync("\r\n", cancellationToken).ConfigureAwait(false);
                    }
                    return line.ToString();
                }
                if (c is '\n' or '\0')
                {
                    continue;
                }
                if (c is '\x7f' or '\b')
                {
                    if (line.Length > 0)
                    {
                        line.Length--;
                        echoed.Append("\b \b");
                    }
                    continue;
                }
                if (c >= ' ' && line.Length < maxLength)
                {
                    line.Append(c);
                    echoed.Append(c);
                }
            }
            if (echo && echoed.Length > 0)
            {
                await WriteAsync(echoed.ToString(), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void Decode(byte b, List<byte> data, List<byte> replies)
    {
        switch (_state)
        {
            case 0:
                if (b == Iac)
                {
                    _state = 1;
                }
                else
                {
                    data.Add(b);
                }
                return;
            case 1:
                switch (b)
                {
                    case Iac:
                        data.Add(Iac);
                        _state = 0;
                        return;
                    case Do or Dont or Will or Wont:
                        _verb = b;
                        _state = 2;
                        return;
                    case Sb:
                        _subnegotiation.Clear();
                        _state = 3;
                        return;
                    default:
                        _state = 0;
                        return;
                }
            case 2:
                Option(_verb, b, replies);
                _state = 0;
                return;
            case 3:
                if (b == Iac)
                {
                    _state = 4;
                }
                else if (_subnegotiation.Count < MaxSubnegotiation)
                {
                    _subnegotiation.Add(b);
                }
                return;
            default:
                if (b == Se)
                {
                    EndSubnegotiation();
                    _state = 0;
                }
                else
                {
                    if (_subnegotiation.Count < MaxSubnegotiation)
                    {
                        _subnegotiation.Add(b);
                    }
                    _state = 3;
                }
                return;
        }
    }

    private void Option(byte verb, byte option, List<byte> replies)
    {
        // Answer each (verb, option) once: loops of mutual acknowledgements are a classic telnet bug.
        if (!_answered.Add((verb, option)))
        {
            return;
        }
        switch (verb)
        {
            case Do when option is Echo or SuppressGoAhead:
            case Will when option == WindowSize:
            case Dont or Wont:
                return;
            case Do:
                replies.AddRange([Iac, Wont, option]);
                return;
            case Will:
                replies.AddRange([Iac, Dont, option]);
                return;
        }
    }

    private void EndSubnegotiation()
    {
        if (_subnegotiation.Count >= 5 && _subnegotiation[0] == WindowSize)
        {
            Columns = Math.Clamp((_subnegotiation[1] << 8) | _subnegotiation[2], 1, 1000);
            Rows = Math.Clamp((_subnegotiation[3] << 8) | _subnegotiation[4], 1, 1000);
        }
    }
}
