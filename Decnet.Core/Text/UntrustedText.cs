using System.Globalization;
using System.Text;

namespace Decnet.Core.Text;

/// <summary>
/// Text an attacker chose (a login name, a captured credential) on its way into a log line or the
/// operator's clipboard. Control characters (CR/LF, ESC, NUL ...), invisible format characters
/// (bidi overrides, zero-width) and line separators are what forges log lines or hides a command
/// in a paste; they never pass through unchanged.
/// </summary>
public static class UntrustedText
{
    /// <summary>
    /// One log-safe line: unsafe characters become <c>\uXXXX</c>, a backslash becomes <c>\\</c> (so an
    /// escape cannot be faked), and text beyond <paramref name="maxChars"/> is cut with a marker.
    /// </summary>
    public static string ForLog(string? text, int maxChars)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var cut = text.Length > maxChars;
        var visible = cut ? text.AsSpan(0, maxChars) : text.AsSpan();
        if (!cut && !NeedsEscaping(visible))
        {
            return text;
        }
        var builder = new StringBuilder(visible.Length + 16);
        for (var i = 0; i < visible.Length; i++)
        {
            var c = visible[i];
            if (c == '\\')
            {
                builder.Append(@"\\");
            }
            else if (IsUnsafe(visible, i))
            {
                builder.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        if (cut)
        {
            builder.Append(CultureInfo.InvariantCulture, $"…(+{text.Length - maxChars} chars)");
        }
        return builder.ToString();
    }

    /// <summary>The text with every unsafe character removed: what a copy button puts on the clipboard.</summary>
    public static string StripUnsafe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        if (!HasUnsafe(text))
        {
            return text;
        }
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (!IsUnsafe(text, i))
            {
                builder.Append(text[i]);
            }
        }
        return builder.ToString();
    }

    private static bool NeedsEscaping(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' || IsUnsafe(text, i))
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasUnsafe(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text, i))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsUnsafe(ReadOnlySpan<char> text, int index)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c))
        {
            return index + 1 >= text.Length || !char.IsLowSurrogate(text[index + 1]);
        }
        if (char.IsLowSurrogate(c))
        {
            return index == 0 || !char.IsHighSurrogate(text[index - 1]);
        }
        return char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
    }
}
