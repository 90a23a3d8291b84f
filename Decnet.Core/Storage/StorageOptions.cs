using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Decnet.Core.Storage;

/// <summary>Which database holds the master's state.</summary>
public enum StorageProvider
{
    /// <summary>An SQLite file in the data folder: embedded, nothing to install (the default).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server named by <see cref="StorageOptions.ConnectionString"/>, for large installations.</summary>
    Postgres,
}

public sealed class StorageOptions
{
    public const string Section = "Decnet:Storage";

    /// <summary>Folder for the database, keys and artifacts. The master anchors a relative path at its content root; otherwise it resolves against the working directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary><c>Sqlite</c> (default) or <c>Postgres</c> (DECNET_DB_TYPE); case does not matter, <c>postgresql</c> is accepted.</summary>
    public string Provider { get; set; } = nameof(StorageProvider.Sqlite);

    /// <summary>SQLite database file; relative to <see cref="DataDirectory"/> unless rooted.</summary>
    public string DatabaseFile { get; set; } = "decnet.db";

    /// <summary>
    /// PostgreSQL only (DECNET_DB_CONNECTION): an Npgsql connection string
    /// (<c>Host=db;Port=5432;Database=decnet;Username=decnet;Password=...</c>) or a
    /// <c>postgresql://user:password@host:port/database</c> URI. Never logged: it may hold a password.
    /// </summary>
    public string? ConnectionString { get; set; }

    public int BusyTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// SQLite only: connections (each on its own thread) that run the read queries of lists and searches.
    /// Microsoft.Data.Sqlite runs "async" calls synchronously; a bounded set of reader threads keeps
    /// hundreds of concurrent API reads from blocking the thread pool.
    /// </summary>
    public int ReaderConnections { get; set; } = 4;

    /// <summary>The validated <see cref="Provider"/>.</summary>
    public StorageProvider Kind => StorageOptionsValidator.ParseProvider(Provider) ?? StorageProvider.Sqlite;

    public string DataPath => Path.GetFullPath(DataDirectory);

    public string DatabasePath => Path.IsPathRooted(DatabaseFile) ? DatabaseFile : Path.Combine(DataPath, DatabaseFile);

    /// <summary>The Npgsql form of <see cref="ConnectionString"/> (a URI is converted); throws when it cannot be read.</summary>
    public string PostgresConnectionString() => PostgresConnection.Normalize(ConnectionString ?? string.Empty);
}

/// <summary>Collects every storage setting problem at start, each naming its key and variable, never echoing a password.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    private const string Prefix = StorageOptions.Section;

    public static StorageProvider? ParseProvider(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "sqlite" => StorageProvider.Sqlite,
        "postgres" or "postgresql" => StorageProvider.Postgres,
        _ => null,
    };

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add($"{Prefix}:DataDirectory (DECNET_DATA_DIR) is required.");
        }
        var provider = ParseProvider(options.Provider);
        if (provider is null)
        {
            errors.Add($"{Prefix}:Provider (DECNET_DB_TYPE) is '{options.Provider}': it must be Sqlite or Postgres.");
        }
        if (options.BusyTimeoutMs is < 100 or > 600_000)
        {
            errors.Add(OptionsProblems.OutOfRange($"{Prefix}:BusyTimeoutMs", options.BusyTimeoutMs, 100, 600_000));
        }
        if (options.ReaderConnections is < 1 or > 64)
        {
            errors.Add(OptionsProblems.OutOfRange($"{Prefix}:ReaderConnections", options.ReaderConnections, 1, 64));
        }
        if (provider == StorageProvider.Sqlite && string.IsNullOrWhiteSpace(options.DatabaseFile))
        {
            errors.Add($"{Prefix}:DatabaseFile (DECNET_DB_PATH) is required with the Sqlite provider.");
        }
        if (provider == StorageProvider.Postgres)
        {
            errors.AddRange(PostgresConnection.Problems(options.ConnectionString).Select(p => $"{Prefix}:ConnectionString (DECNET_DB_CONNECTION): {p}"));
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Reads the PostgreSQL connection setting in either of its two forms.</summary>
public static class PostgresConnection
{
    /// <summary>What is wrong with the setting (empty when usable); the messages never quote the password.</summary>
    public static IReadOnlyList<string> Problems(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return ["is required with the Postgres provider (e.g. Host=127.0.0.1;Port=5432;Database=decnet;Username=decnet;Password=...)."];
        }
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(Normalize(value));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException or KeyNotFoundException)
        {
            return [$"cannot be read: {Redact(ex.Message, value)}"];
        }
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            problems.Add("names no Host.");
        }
        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            problems.Add("names no Database.");
        }
        if (string.IsNullOrWhiteSpace(builder.Username))
        {
            problems.Add("names no Username.");
        }
        return problems;
    }

    /// <summary>The Npgsql keyword form; a <c>postgres://</c> or <c>postgresql://</c> URI is converted.</summary>
    public static string Normalize(string value)
    {
        value = value.Trim();
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new NpgsqlConnectionStringBuilder(value).ConnectionString;
        }
        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var setting = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            // libpq spells it sslmode; Npgsql's keyword is "SSL Mode" and accepts the same values.
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = setting;
        }
        return builder.ConnectionString;
    }

    /// <summary>Host, port and database only: what a log line may say about the server.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static string Redact(string message, string value)
    {
        foreach (var secret in SecretsIn(value))
        {
            message = message.Replace(secret, "***", StringComparison.Ordinal);
        }
        return message;
    }

    private static IEnumerable<string> SecretsIn(string value)
    {
        foreach (var part in value.Split(';'))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && part[..equals].Trim().Contains("password", StringComparison.OrdinalIgnoreCase) && part.Length > equals + 1)
            {
                yield return part[(equals + 1)..].Trim();
            }
        }
        if (value.Contains("://", StringComparison.Ordinal) && value.IndexOf('@', StringComparison.Ordinal) is var at and > 0)
        {
            var userInfo = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..at];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && colon + 1 < userInfo.Length)
            {
                yield return userInfo[(colon + 1)..];
            }
        }
    }
}
