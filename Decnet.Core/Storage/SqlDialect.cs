using System.Globalization;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Storage;

/// <summary>
/// The few SQL fragments the hand-written queries (log search, histogram) need that SQLite and PostgreSQL
/// spell differently. Identifiers are always double-quoted: both accept that, and PostgreSQL needs it for
/// EF's mixed-case column names. Fragments are fixed text plus the caller's placeholders; values are never
/// part of them.
/// </summary>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();
    public static readonly SqlDialect Postgres = new PostgresDialect();

    public static SqlDialect For(StorageProvider provider) => provider == StorageProvider.Postgres ? Postgres : Sqlite;

    public static SqlDialect For(IOptions<StorageOptions> options) => For(options.Value.Kind);

    /// <summary>ASCII-case-insensitive LIKE, as SQLite's LIKE is.</summary>
    public abstract string CaseInsensitiveLike { get; }

    /// <summary>The value bound for a UTC time compared with a DateTime column.</summary>
    public abstract object Time(DateTime utc);

    /// <summary>The value bound to name a top-level key of the <c>Fields</c> JSON.</summary>
    public abstract object JsonKey(string key);

    /// <summary>Top-level JSON key of <c>Fields</c> (placeholder <paramref name="key"/>) equals the text <paramref name="value"/>.</summary>
    public abstract string FieldEquals(string key, string value);

    /// <summary>Text of the top-level JSON key of <c>Fields</c> (placeholder <paramref name="key"/>); NULL when absent or unreadable.</summary>
    public abstract string FieldText(string key);

    /// <summary>The <c>Fields</c> column as text, for a LIKE that skips rows before any JSON is parsed.</summary>
    public abstract string FieldsAsText { get; }

    /// <summary>Whole seconds since the Unix epoch of a DateTime column.</summary>
    public abstract string EpochSeconds(string column);

    private sealed class SqliteDialect : SqlDialect
    {
        public override string CaseInsensitiveLike => "LIKE";

        /// <summary>EF Core stores DateTime as this text on SQLite; the comparison is a correct string comparison.</summary>
        public override object Time(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);

        /// <summary>Quoted ($."key") so keys starting with a digit are still one label.</summary>
        public override object JsonKey(string key) => "$.\"" + key + "\"";

        // json_extract raises on malformed JSON; CASE (unlike AND) guarantees it only runs on valid rows.
        public override string FieldEquals(string key, string value) =>
            $"(CASE WHEN json_valid(\"Fields\") THEN json_extract(\"Fields\", {key}) END) = {value}";

        public override string FieldText(string key) =>
            $"(CASE WHEN json_valid(\"Fields\") THEN CAST(json_extract(\"Fields\", {key}) AS TEXT) END)";

        public override string FieldsAsText => "\"Fields\"";

        public override string EpochSeconds(string column) => $"CAST(strftime('%s', {column}) AS INTEGER)";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override string CaseInsensitiveLike => "ILIKE";

        public override object Time(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc);

        public override object JsonKey(string key) => key;

        // The column is json: PostgreSQL refuses malformed documents on insert, so every row can be read.
        public override string FieldEquals(string key, string value) => $"(\"Fields\" ->> {key}) = {value}";

        public override string FieldText(string key) => $"(\"Fields\" ->> {key})";

        public override string FieldsAsText => "CAST(\"Fields\" AS text)";

        // floor, not a cast: a cast to bigint rounds half a second up into the next bucket.
        public override string EpochSeconds(string column) => $"CAST(floor(extract(epoch from {column})) AS bigint)";
    }
}
