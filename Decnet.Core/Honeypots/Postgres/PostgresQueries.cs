using System.Text.RegularExpressions;

namespace Decnet.Core.Honeypots.Postgres;

/// <summary>What the decky answers to one query: a result set, or an error with its SQLSTATE.</summary>
public sealed record PostgresAnswer(IReadOnlyList<string>? Columns, IReadOnlyList<IReadOnlyList<string?>> Rows, string Tag, string? ErrorState = null, string? ErrorMessage = null)
{
    public bool IsError => ErrorState is not null;

    public static PostgresAnswer Error(string state, string message) => new(null, [], string.Empty, state, message);

    public static PostgresAnswer Single(string column, string value, string tag = "SELECT 1") => new([column], [[value]], tag);
}

/// <summary>
/// Canned answers for a logged-in attacker's first moves: who am I, which version, which databases. Anything
/// else fails the way an unprivileged role's query fails on PostgreSQL 15, so nothing is ever executed.
/// </summary>
public static partial class PostgresQueries
{
    public static PostgresAnswer Answer(string query, string version, string user, string database, IReadOnlyList<string> databases)
    {
        var text = query.Trim().TrimEnd(';').Trim();
        if (text.Length == 0)
        {
            return new PostgresAnswer(null, [], string.Empty);
        }
        var lower = text.ToLowerInvariant();
        if (lower.Contains("version()", StringComparison.Ordinal))
        {
            return PostgresAnswer.Single("version", FullVersion(version));
        }
        if (lower.StartsWith("show server_version", StringComparison.Ordinal))
        {
            return PostgresAnswer.Single("server_version", version, "SHOW");
        }
        if (lower.Contains("pg_database", StringComparison.Ordinal))
        {
            var rows = databases.Select(name => (IReadOnlyList<string?>)
                [name, "postgres", "UTF8", "C.UTF-8", "C.UTF-8", null, "libc",
                    name is "template0" or "template1" ? "=c/postgres\npostgres=CTc/postgres" : null]).ToList();
            return new PostgresAnswer(["Name", "Owner", "Encoding", "Collate", "Ctype", "ICU Locale", "Locale Provider", "Access privileges"],
                rows, $"SELECT {rows.Count}");
        }
        if (lower.Contains("pg_catalog.pg_class", StringComparison.Ordinal))
        {
            // psql's \dt and \d: a fresh application database whose tables this role may not see.
            return new PostgresAnswer(["Schema", "Name", "Type", "Owner"], [], "SELECT 0");
        }
        if (SimpleSelect().Match(lower) is { Success: true } simple)
        {
            return simple.Groups[1].Value switch
            {
                "current_user" or "user" or "session_user" => PostgresAnswer.Single(simple.Groups[1].Value, user),
                "current_database()" => PostgresAnswer.Single("current_database", database),
                _ => PostgresAnswer.Single("?column?", simple.Groups[1].Value),
            };
        }
        if (lower.Contains("from program", StringComparison.Ordinal))
        {
            return PostgresAnswer.Error("42501", "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program");
        }
        if (FromRelation().Match(lower) is { Success: true } from)
        {
            return PostgresAnswer.Error("42P01", $"relation \"{from.Groups[1].Value}\" does not exist");
        }
        return PostgresAnswer.Error("42501", "permission denied for schema public");
    }

    /// <summary>The <c>version()</c> string of a Debian-built server with this <c>server_version</c>.</summary>
    public static string FullVersion(string version) =>
        $"PostgreSQL {version} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit";

    [GeneratedRegex(@"^select\s+(current_user|session_user|user|current_database\(\)|\d{1,9})$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SimpleSelect();

    [GeneratedRegex(@"\bfrom\s+""?([a-z_][a-z0-9_.]{0,62})", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex FromRelation();
}
