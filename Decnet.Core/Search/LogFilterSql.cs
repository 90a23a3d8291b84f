using System.Text;

namespace Decnet.Core.Search;

/// <summary>
/// The WHERE clause of a search over <c>logs</c>. The SQL text is assembled only from fixed fragments,
/// the column names of <see cref="LogQuery"/>'s own table and <c>{n}</c> placeholders; every value the
/// user typed (including the JSON path) travels in <see cref="Parameters"/>, bound by EF Core.
/// Raw SQL rather than LINQ because the JSON match (<c>json_extract</c>) and the histogram's time buckets
/// have no LINQ translation on SQLite, and one builder keeps list, count and histogram filtering identical.
/// </summary>
internal sealed class LogFilterSql
{
    private const string LikeEscape = "\\";

    private LogFilterSql(string where, IReadOnlyList<object> parameters)
    {
        Where = where;
        Parameters = parameters;
    }

    /// <summary>A boolean SQL expression over the unaliased <c>logs</c> columns ("1" when unfiltered).</summary>
    public string Where { get; }

    public IReadOnlyList<object> Parameters { get; }

    /// <param name="firstParameter">Index of the first placeholder, when the caller binds its own before these.</param>
    /// <param name="before">Only rows after this one in newest-first order (an export's keyset cursor).</param>
    public static LogFilterSql Build(LogQuery query, DateTime? start, DateTime? end, long? afterId = null, int firstParameter = 0,
        (DateTime Timestamp, long Id)? before = null)
    {
        var clauses = new List<string>();
        var parameters = new List<object>();
        string Next(object value)
        {
            parameters.Add(value);
            return $"{{{firstParameter + parameters.Count - 1}}}";
        }

        if (start is { } from)
        {
            clauses.Add($"Timestamp >= {Next(Utc(from))}");
        }
        if (end is { } to)
        {
            clauses.Add($"Timestamp <= {Next(Utc(to))}");
        }
        if (afterId is { } id)
        {
            clauses.Add($"Id > {Next(id)}");
        }
        if (before is { } cursor)
        {
            var at = Next(Utc(cursor.Timestamp));
            clauses.Add($"(Timestamp < {at} OR (Timestamp = {at} AND Id < {Next(cursor.Id)}))");
        }
        foreach (var term in query.Terms)
        {
            switch (term.Kind)
            {
                case LogTermKind.Column:
                    // The key came from LogQuery's fixed column map, never from the user.
                    clauses.Add($"{Column(term.Key)} = {Next(term.Value)}");
                    break;
                case LogTermKind.Field:
                    // The path is quoted ($."key") so keys starting with a digit are still one label.
                    // json_extract raises on malformed JSON; CASE (unlike AND) guarantees it only runs on valid rows.
                    // Aliases (user/username ...) match any of their keys; every key is already reduced to [A-Za-z0-9_].
                    var value = Next(term.Value);
                    var matches = term.FieldKeys.Select(key => $"json_extract(Fields, {Next("$.\"" + key + "\"")}) = {value}");
                    clauses.Add($"(CASE WHEN json_valid(Fields) THEN ({string.Join(" OR ", matches)}) END)");
                    break;
                default:
                    var pattern = Next("%" + EscapeLike(term.Value) + "%");
                    clauses.Add($"(RawLine LIKE {pattern} ESCAPE '{LikeEscape}' OR Decky LIKE {pattern} ESCAPE '{LikeEscape}' " +
                                $"OR Service LIKE {pattern} ESCAPE '{LikeEscape}' OR AttackerIp LIKE {pattern} ESCAPE '{LikeEscape}')");
                    break;
            }
        }
        var where = clauses.Count == 0 ? "1" : string.Join(" AND ", clauses);
        return new LogFilterSql(where, parameters);
    }

    /// <summary>Makes <c>%</c>, <c>_</c> and the escape character itself literal inside a LIKE pattern.</summary>
    public static string EscapeLike(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '%' or '_' or '\\')
            {
                builder.Append('\\');
            }
            builder.Append(c);
        }
        return builder.ToString();
    }

    private static string Column(string key) => key switch
    {
        "Decky" => "Decky",
        "Service" => "Service",
        "EventType" => "EventType",
        "AttackerIp" => "AttackerIp",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Not a searchable column."),
    };

    /// <summary>
    /// Bound as the same text EF Core writes for a DateTime ("yyyy-MM-dd HH:mm:ss.FFFFFFF"), so the
    /// comparison with the TEXT column is a correct string comparison.
    /// </summary>
    private static string Utc(DateTime value) =>
        (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture);
}
