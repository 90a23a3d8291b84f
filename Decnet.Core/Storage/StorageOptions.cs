using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "Decnet:Storage";

    /// <summary>Folder for the database, keys and artifacts. The master anchors a relative path at its content root; otherwise it resolves against the working directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>SQLite database file; relative to <see cref="DataDirectory"/> unless rooted.</summary>
    [Required]
    public string DatabaseFile { get; set; } = "decnet.db";

    [Range(100, 600_000)]
    public int BusyTimeoutMs { get; set; } = 30_000;

    public string DataPath => Path.GetFullPath(DataDirectory);

    public string DatabasePath => Path.IsPathRooted(DatabaseFile) ? DatabaseFile : Path.Combine(DataPath, DatabaseFile);
}
