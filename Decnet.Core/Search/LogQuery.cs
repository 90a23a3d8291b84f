using System.Text;

namespace Decnet.Core.Search;

/// <summary>Which part of a log row a term matches.</summary>
public enum LogTermKind
{
    /// <summary>Exact match on a column (<see cref="LogTerm.Key"/> is the column name).</summary>
    Column,

    /// <summary>Exact match on a top-level key of the structured-data JSON.</summary>
    Field,

    /// <summary>Substring match on the raw line, decky, service or attacker IP.</summary>
    Text,
}

/// <summary>One search term. For <see cref="LogTermKind.Text"/> the key is empty.</summary>
public sealed record LogTerm(LogTermKind Kind, string Key, string Value)
{
    /// <summary>The JSON keys a <see cref="LogTermKind.Field"/> term matches: its key and that key's aliases.</summary>
    public IReadOnlyList<string> FieldKeys => Kind == LogTermKind.Field ? LogQuery.FieldAliases(Key) : [];
}

/// <summary>
/// A parsed log search: shell-like tokens, each <c>key:value</c> (exact match) or a plain word
/// (substring). All terms must match. Values stay data: the SQL built from a query binds every value
/// as a parameter, and field keys are reduced to <c>[A-Za-z0-9_]</c> before they reach a JSON path.
/// </summary>
public sealed class LogQuery
{
    public const int MaxLength = 512;
    public const int MaxTerms = 20;

    /// <summary>Keys that name a column instead of a JSON field, mapped to the column they match.</summary>
    private static readonly Dictionary<string, string> ColumnKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["decky"] = "Decky",
        ["service"] = "Service",
        ["event"] = "EventType",
        ["attacker"] = "AttackerIp",
        ["attacker-ip"] = "AttackerIp",
        ["attacker_ip"] = "AttackerIp",
    };

    /// <summary>
    /// Field names that mean the same thing to an operator. Services log the same fact under different
    /// keys (SSH, FTP and MySQL write <c>username</c>, the emulated shell and scp write <c>user</c>), and
    /// the pages show whichever the row carries: <c>user:root</c> must find both.
    /// </summary>
    private static readonly string[][] AliasGroups =
    [
        ["user", "username"],
        ["pass", "password"],
        ["cmd", "command"],
    ];

    public static readonly LogQuery Empty = new([], string.Empty);

    /// <summary>The keys a field term named <paramref name="key"/> matches.</summary>
    public static IReadOnlyList<string> FieldAliases(string key)
    {
        foreach (var group in AliasGroups)
        {
            if (group.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                // JSON keys are case-sensitive: the group's own spellings, plus the key as typed when it differs.
                return group.Contains(key, StringComparer.Ordinal) ? group : [key, .. group];
            }
        }
        return [key];
    }

    private LogQuery(IReadOnlyList<LogTerm> terms, string text)
    {
        Terms = terms;
        Text = text;
        // Terms are ANDed, so their order does not matter; column keys are already the column's name.
        Key = string.Join('\u001e', terms.Select(t => $"{(int)t.Kind}\u001f{t.Key}\u001f{t.Value}").Order(StringComparer.Ordinal));
    }

    public IReadOnlyList<LogTerm> Terms { get; }

    /// <summary>The query as typed (trimmed).</summary>
    public string Text { get; }

    /// <summary>
    /// What the query matches, normalised: equal for every spelling that finds the same rows (spacing,
    /// quoting, term order, <c>attacker:</c> or <c>attacker_ip:</c>). Caches key searches by it.
    /// </summary>
    public string Key { get; }

    public bool IsEmpty => Terms.Count == 0;

    /// <summary>Parses <paramref name="text"/>; null or blank is the empty query.</summary>
    public static LogQueryParse Parse(string? text)
    {
        text = text?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            return LogQueryParse.Ok(Empty);
        }
        if (text.Length > MaxLength)
        {
            return LogQueryParse.Fail($"The search is longer than {MaxLength} characters.");
        }
        var (tokens, error) = Split(text);
        if (error is not null)
        {
            return LogQueryParse.Fail(error);
        }
        if (tokens.Count > MaxTerms)
        {
            return LogQueryParse.Fail($"The search has {tokens.Count} terms; at most {MaxTerms} are allowed.");
        }
        var terms = new List<LogTerm>(tokens.Count);
        foreach (var token in tokens)
        {
            var colon = token.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                terms.Add(new LogTerm(LogTermKind.Text, string.Empty, token));
                continue;
            }
            var key = token[..colon];
            var value = token[(colon + 1)..];
            if (ColumnKeys.TryGetValue(key, out var column))
            {
                terms.Add(new LogTerm(LogTermKind.Column, column, value));
                continue;
            }
            var cleaned = CleanKey(key);
            if (cleaned.Length == 0)
            {
                return LogQueryParse.Fail($"'{token}' has no usable field name before ':' (field names use letters, digits and '_').");
            }
            terms.Add(new LogTerm(LogTermKind.Field, cleaned, value));
        }
        return LogQueryParse.Ok(new LogQuery(terms, text));
    }

    /// <summary>Keeps only <c>[A-Za-z0-9_]</c>, so a key can never leave its JSON path segment.</summary>
    public static string CleanKey(string key)
    {
        var builder = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// POSIX shell word splitting without expansion: whitespace separates words, single quotes keep
    /// everything literal, double quotes keep everything but <c>\"</c> and <c>\\</c>, a backslash outside
    /// quotes escapes the next character. Empty words (<c>""</c>) are dropped: they match everything.
    /// </summary>
    public static (List<string> Tokens, string? Error) Split(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    Flush();
                }
                continue;
            }
            inWord = true;
            switch (c)
            {
                case '\'':
                {
                    var end = text.IndexOf('\'', i + 1);
                    if (end < 0)
                    {
                        return (tokens, $"Unbalanced single quote at position {i + 1}.");
                    }
                    current.Append(text, i + 1, end - i - 1);
                    i = end;
                    break;
                }
                case '"':
                {
                    var start = i;
                    var closed = false;
                    for (i++; i < text.Length; i++)
                    {
                        if (text[i] == '"')
                        {
                            closed = true;
                            break;
                        }
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                        {
                            i++;
                        }
                        current.Append(text[i]);
                    }
                    if (!closed)
                    {
                        return (tokens, $"Unbalanced double quote at position {start + 1}.");
                    }
                    break;
                }
                case '\\':
                    if (i + 1 >= text.Length)
                    {
                        return (tokens, "The search ends with a lone backslash.");
                    }
                    current.Append(text[++i]);
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }
        if (inWord)
        {
            Flush();
        }
        return (tokens, null);

        void Flush()
        {
            if (current.Length > 0)
            {
                tokens.Add(current.ToString());
            }
            current.Clear();
            inWord = false;
        }
    }
}

/// <summary>The outcome of <see cref="LogQuery.Parse"/>: a query, or why the text is not one.</summary>
public sealed record LogQueryParse(LogQuery? Query, string? Error)
{
    public bool Succeeded => Query is not null;

    public static LogQueryParse Ok(LogQuery query) => new(query, null);

    public static LogQueryParse Fail(string error) => new(null, error);
}
