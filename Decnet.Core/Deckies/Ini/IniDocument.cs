using System.Text;

namespace Decnet.Core.Deckies;

/// <summary>One <c>key = value</c> line. <see cref="Value"/> is null for a bare key with no separator.</summary>
public sealed record IniEntry(string Key, string? Value, int Line);

/// <summary>One <c>[section]</c> with its entries in file order, duplicates included.</summary>
public sealed record IniSection(string Name, int Line, IReadOnlyList<IniEntry> Entries)
{
    /// <summary>The last entry with this key (case-insensitive): later lines override earlier ones.</summary>
    public IniEntry? Find(string key)
    {
        for (var i = Entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(Entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return Entries[i];
            }
        }

        return null;
    }

    /// <summary>The last entry with any of these keys, for settings that accept several spellings.</summary>
    public IniEntry? FindAny(params ReadOnlySpan<string> keys)
    {
        IniEntry? latest = null;
        foreach (var key in keys)
        {
            if (Find(key) is { } entry && (latest is null || entry.Line > latest.Line))
            {
                latest = entry;
            }
        }

        return latest;
    }
}

/// <summary>
/// A parsed INI text. Sections are kept in order and not merged, so a repeated section header stays
/// visible to the deployment loader (a repeated decky is an error there, not a silent merge).
/// </summary>
public sealed record IniDocument(IReadOnlyList<IniSection> Sections)
{
    /// <summary>Largest accepted INI text, in UTF-8 bytes.</summary>
    public const int MaxBytes = 512 * 1024;

    /// <summary>Reads INI text, throwing with every syntax problem when the text is not usable.</summary>
    /// <exception cref="IniValidationException">The text is blank, too large, has syntax errors or has no section.</exception>
    public static IniDocument Parse(string? text)
    {
        var (document, errors) = Read(text);
        return errors.Count == 0 ? document : throw new IniValidationException(errors);
    }

    /// <summary>
    /// Reads INI text and collects syntax problems instead of stopping at the first, so a caller can
    /// report them together with its own semantic checks. Bad lines are skipped; the rest is returned.
    /// </summary>
    /// <remarks>
    /// Dialect: <c>[section]</c> headers; <c>key = value</c> or <c>key: value</c> (first separator
    /// wins); whole-line comments starting with <c>;</c> or <c>#</c>; a trailing comment starts at
    /// whitespace followed by <c>;</c>; bare keys without a value are allowed; repeated keys are kept
    /// and the last one wins on lookup; CRLF and CR line ends are read as LF. There is no value
    /// interpolation and no multi-line continuation.
    /// </remarks>
    public static (IniDocument Document, IReadOnlyList<IniError> Errors) Read(string? text)
    {
        var errors = new List<IniError>();
        var empty = new IniDocument([]);
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new IniError(null, null, null, "INI content is empty"));
            return (empty, errors);
        }

        var size = Encoding.UTF8.GetByteCount(text);
        if (size > MaxBytes)
        {
            errors.Add(new IniError(null, null, null, $"INI content is {size} bytes; the limit is {MaxBytes} bytes (512 KiB)"));
            return (empty, errors);
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var sections = new List<IniSection>();
        string? currentName = null;
        var currentLine = 0;
        List<IniEntry>? currentEntries = null;

        for (var index = 0; index < lines.Length; index++)
        {
            var lineNumber = index + 1;
            var line = lines[index].Trim();
            if (line.Length == 0 || line[0] is ';' or '#')
            {
                continue;
            }

            if (line[0] == '[')
            {
                var close = line.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    errors.Add(new IniError(lineNumber, null, null, $"section header '{line}' is missing the closing ']'"));
                    continue;
                }

                var name = line[1..close].Trim();
                var rest = line[(close + 1)..].Trim();
                if (name.Length == 0)
                {
                    errors.Add(new IniError(lineNumber, null, null, "section header has an empty name"));
                    continue;
                }

                if (rest.Length > 0 && rest[0] is not (';' or '#'))
                {
                    errors.Add(new IniError(lineNumber, name, null, $"unexpected text '{rest}' after the section header"));
                    continue;
                }

                Close();
                currentName = name;
                currentLine = lineNumber;
                currentEntries = [];
                continue;
            }

            var (key, value) = SplitEntry(line);
            if (key.Length == 0)
            {
                errors.Add(new IniError(lineNumber, currentName, null, $"line '{line}' has a value but no key"));
                continue;
            }

            if (currentEntries is null)
            {
                errors.Add(new IniError(lineNumber, null, key, "key outside of any section; start the file with a [section] header"));
                continue;
            }

            currentEntries.Add(new IniEntry(key, value, lineNumber));
        }

        Close();
        if (sections.Count == 0)
        {
            errors.Add(new IniError(null, null, null, "INI content must contain at least one section"));
        }

        return (new IniDocument(sections), errors);

        void Close()
        {
            if (currentName is not null && currentEntries is not null)
            {
                sections.Add(new IniSection(currentName, currentLine, currentEntries));
            }
        }
    }

    private static (string Key, string? Value) SplitEntry(string line)
    {
        var separator = line.AsSpan().IndexOfAny('=', ':');
        if (separator < 0)
        {
            return (StripTrailingComment(line).Trim(), null);
        }

        var key = line[..separator].Trim();
        var value = StripTrailingComment(line[(separator + 1)..]).Trim();
        return (key, value);
    }

    // Only whitespace followed by ';' starts a trailing comment, so values such as URLs or
    // "a;b" stay whole.
    private static string StripTrailingComment(string value)
    {
        for (var i = 1; i < value.Length; i++)
        {
            if (value[i] == ';' && char.IsWhiteSpace(value[i - 1]))
            {
                return value[..i];
            }
        }

        return value;
    }
}
