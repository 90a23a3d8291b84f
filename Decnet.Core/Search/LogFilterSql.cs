using System.Text;
using Decnet.Core.Storage;

namespace Decnet.Core.Search;

/// <summary>
/// The WHERE clause of a search over <c>logs</c>. The SQL text is assembled only from fixed fragments,
/// the column names of <see cref="LogQuery"/>'s own table and <c>{n}</c> placeholders; every value the
/// user typed (including the JSON path) travels in <see cref="Parameters"/>, bound by EF Core.
/// Raw SQL rather than LINQ because the JSON match and the histogram's time buckets have no common LINQ
/// translation, and one builder keeps list, count and histogram filtering identical. What SQLite and
/// PostgreSQL spell differently comes from the <see cref="SqlDialect"/>.
/// </summary>
internal sealed class LogFilterSql
{
    private const string LikeEscape = "\\";

    private LogFilterSql(string where, IReadOnlyList<object> parameters)
    {
        Where = where;
        Parameters = parameters;
    }

    /// <summary>A boolean SQL expression over the unaliased <c>logs</c> columns ("1 = 1" when unfiltered).</summary>
    public string Where { get; }

    public IReadOnlyList<object> Parameters { get; }

    /// <param name="firstParameter">Index of the first placeholder, when the caller binds its own before these.</param>
    public static LogFilterSql Build(SqlDialect dialect, LogQuery query, DateTime? start, DateTime? end, long? afterId = null, int firstParameter = 0, LogCursor? before = null)
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
            clauses.Add($"\"Timestamp\" >= {Next(dialect.Time(Utc(from)))}");
        }
        if (end is { } to)
        {
            clauses.Add($"\"Timestamp\" <= {Next(dialect.Time(Utc(to)))}");
        }
        if (afterId is { } id)
        {
            clauses.Add($"\"Id\" > {Next(id)}");
        }
        if (before is not null)
        {
            // Row values: the (time, id) order of the pages, which the (column, Timestamp) indexes can seek into.
            clauses.Add($"(\"Timestamp\", \"Id\") < ({Next(dialect.Time(Utc(before.Timestamp)))}, {Next(before.Id)})");
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
                    // Aliases (user/username ...) match any of their keys; every key is already reduced to [A-Za-z0-9_].
                    var value = Next(term.Value);
                    var matches = term.FieldKeys.Select(key => dialect.FieldEquals(Next(dialect.JsonKey(key)), value));
                    clauses.Add($"({string.Join(" OR ", matches)})");
                    break;
                default:
                    var pattern = Next("%" + EscapeLike(term.Value) + "%");
                    var like = dialect.CaseInsensitiveLike;
                    clauses.Add($"(\"RawLine\" {like} {pattern} ESCAPE '{LikeEscape}' OR \"Decky\" {like} {pattern} ESCAPE '{LikeEscape}' " +
                                $"OR \"Service\" {like} {pattern} ESCAPE '{LikeEscape}' OR \"AttackerIp\" {like} {pattern} ESCAPE '{LikeEscape}')");
                    break;
            }
        }
        var where = clauses.Count == 0 ? "1 = 1" : string.Join(" AND ", clauses);
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
        "Decky" => "\"Decky\"",
        "Service" => "\"Service\"",
        "EventType" => "\"EventType\"",
        "AttackerIp" => "\"AttackerIp\"",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Not a searchable column."),
    };

    private static DateTime Utc(DateTime value) =>
        DateTime.SpecifyKind(value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value, DateTimeKind.Utc);
}
