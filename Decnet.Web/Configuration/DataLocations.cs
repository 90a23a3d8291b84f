using Decnet.Core.Storage;

namespace Decnet.Web.Configuration;

/// <summary>
/// Where the master keeps its data folder (database, keys, swarm CA, artifacts, recordings) and its
/// process logs. A relative <c>DECNET_DATA_DIR</c> / <c>DECNET_LOG_DIRECTORY</c> is anchored at the
/// content root, never at whatever directory the process happened to start in: <c>Decnet.Web/</c>
/// under <c>dotnet run --project Decnet.Web</c>, the folder a published build is started from.
/// </summary>
public static class DataLocations
{
    public const string DataDirectoryKey = StorageOptions.Section + ":" + nameof(StorageOptions.DataDirectory);
    public const string LogDirectoryKey = LoggingOptions.Section + ":" + nameof(LoggingOptions.Directory);

    /// <summary>
    /// Replaces both folders by their absolute form, read after every other source (so whichever
    /// source set them still decides), and adds that last so every reader sees the same paths.
    /// </summary>
    public static WebApplicationBuilder AnchorDataLocations(this WebApplicationBuilder builder)
    {
        var root = builder.Environment.ContentRootPath;
        var data = builder.Configuration[DataDirectoryKey];
        var logs = builder.Configuration[LogDirectoryKey];
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [DataDirectoryKey] = Path.GetFullPath(string.IsNullOrWhiteSpace(data) ? new StorageOptions().DataDirectory : data, root),
            [LogDirectoryKey] = Path.GetFullPath(string.IsNullOrWhiteSpace(logs) ? new LoggingOptions().Directory : logs, root),
        });
        return builder;
    }
}
