namespace Decnet.Core.Export;

/// <summary>How an export is written: CSV (RFC 4180, one record per line) or a JSON array of objects.</summary>
public enum ExportFormat
{
    Csv,
    Json,
}

public static class ExportFormats
{
    /// <summary>"csv" or "json", any case; absent means CSV.</summary>
    public static bool TryParse(string? text, out ExportFormat format)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "csv":
                format = ExportFormat.Csv;
                return true;
            case "json":
                format = ExportFormat.Json;
                return true;
            default:
                format = default;
                return false;
        }
    }

    public static string ContentType(ExportFormat format) => format == ExportFormat.Json ? "application/json; charset=utf-8" : "text/csv; charset=utf-8";

    public static string Extension(ExportFormat format) => format == ExportFormat.Json ? "json" : "csv";
}
