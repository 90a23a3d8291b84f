using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Redis;

public enum RespReadStatus
{
    Command,
    Empty,
    ProtocolError,
    EndOfStream,
}

public readonly record struct RespCommand(RespReadStatus Status, IReadOnlyList<string> Arguments, string? Error = null);

/// <summary>
/// Reads RESP2 requests: arrays of bulk strings (what clients send) and inline commands (what netcat
/// users type). Array sizes and bulk lengths are bounded far below what Redis allows: a honeypot has
/// no reason to accept a 512 MB argument.
/// </summary>
public sealed class RespReader(LineReader lines)
{
    public const int MaxArguments = 1024;
    public const int MaxBulkLength = 64 * 1024;

    public async ValueTask<RespCommand> ReadAsync(CancellationToken cancellationToken)
    {
        var header = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (header.Status == LineStatus.EndOfStream)
        {
            return new RespCommand(RespReadStatus.EndOfStream, []);
        }
        if (header.Status == LineStatus.TooLong)
        {
            return new RespCommand(RespReadStatus.ProtocolError, [], "too big inline request");
        }
        var text = header.Text;
        if (text.Length == 0)
        {
            return new RespCommand(RespReadStatus.Empty, []);
        }
        if (text[0] != '*')
        {
            // A line of blanks splits into nothing: redis ignores it, as it does an empty line.
            var inline = SplitInline(text);
            return inline.Count == 0 ? new RespCommand(RespReadStatus.Empty, []) : new RespCommand(RespReadStatus.Command, inline);
        }
        if (!int.TryParse(text.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) || count > MaxArguments)
        {
            return new RespCommand(RespReadStatus.ProtocolError, [], "invalid multibulk length");
        }
        if (count <= 0)
        {
            return new RespCommand(RespReadStatus.Empty, []);
        }
        var arguments = new List<string>(Math.Min(count, 16));
        for (var i = 0; i < count; i++)
        {
            var bulkHeader = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (bulkHeader.Status == LineStatus.EndOfStream)
            {
                return new RespCommand(RespReadStatus.EndOfStream, []);
            }
            if (!bulkHeader.IsLine || bulkHeader.Text.Length < 2 || bulkHeader.Text[0] != '$')
            {
                var got = bulkHeader.IsLine && bulkHeader.Text.Length > 0 ? bulkHeader.Text[0].ToString() : "?";
                return new RespCommand(RespReadStatus.ProtocolError, [], $"expected '$', got '{got}'");
            }
            if (!int.TryParse(bulkHeader.Text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxBulkLength)
            {
                return new RespCommand(RespReadStatus.ProtocolError, [], "invalid bulk length");
            }
            var payload = new byte[length + 2];
            if (!await lines.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false))
            {
                return new RespCommand(RespReadStatus.EndOfStream, []);
            }
            arguments.Add(Encoding.UTF8.GetString(payload, 0, length));
        }
        return new RespCommand(RespReadStatus.Command, arguments);
    }

    /// <summary>Inline commands split on whitespace, honouring double quotes as redis-cli users expect.</summary>
    public static IReadOnlyList<string> SplitInline(string line)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(c);
                any = true;
            }
            if (result.Count >= MaxArguments)
            {
                break;
            }
        }
        if (any && result.Count < MaxArguments)
        {
            result.Add(current.ToString());
        }
        return result;
    }
}
