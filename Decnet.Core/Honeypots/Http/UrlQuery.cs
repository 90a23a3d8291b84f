using Microsoft.Extensions.Primitives;

namespace Decnet.Core.Honeypots.Http;

/// <summary>
/// The name/value pairs of a query string or an <c>application/x-www-form-urlencoded</c> body, read as
/// web servers read them: <c>+</c> is a space, percent escapes are decoded (a broken escape stays as
/// sent), names compare without case, a repeated name keeps every value in order, a name without
/// <c>=</c> has an empty value. The text is already bounded by the request parser that produced it.
/// </summary>
public static class UrlQuery
{
    public static Dictionary<string, StringValues> Parse(string? text)
    {
        var pairs = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(text))
        {
            return pairs;
        }
        var span = text.AsSpan();
        if (span[0] == '?')
        {
            span = span[1..];
        }
        foreach (var range in span.Split('&'))
        {
            var pair = span[range];
            if (pair.IsEmpty)
            {
                continue;
            }
            var equals = pair.IndexOf('=');
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : Decode(pair[(equals + 1)..]);
            pairs[name] = pairs.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
        }
        return pairs;
    }

    private static string Decode(ReadOnlySpan<char> part) => Uri.UnescapeDataString(part.ToString().Replace('+', ' '));
}
