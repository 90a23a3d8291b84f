using System.Text;
using System.Text.Json;

namespace Decnet.Core.Honeypots.Http;

/// <summary>
/// JSON an attacker sent. <see cref="JsonDocument"/> checks a string's UTF-8 only when it is read, so a
/// body with an invalid byte inside a string parses and then throws from <c>GetString()</c>. Invalid
/// sequences become U+FFFD first, as the Go and Java servers the honeypots imitate do, so every string
/// reads and only malformed JSON is refused (<see cref="JsonException"/>).
/// </summary>
public static class AttackerJson
{
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, int maxDepth = 32)
    {
        var options = new JsonDocumentOptions { MaxDepth = maxDepth };
        return System.Text.Unicode.Utf8.IsValid(utf8.Span)
            ? JsonDocument.Parse(utf8, options)
            : JsonDocument.Parse(Encoding.UTF8.GetString(utf8.Span), options);
    }
}
