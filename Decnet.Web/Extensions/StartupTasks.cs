using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Web.Configuration;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Extensions;

/// <summary>
/// Before the first request: say where data and logs go, check the dashboard's static files are
/// there, migrate the database, seed the administrator, and bring the stored deployment back up
/// (in-process deckies do not outlive the process).
/// </summary>
public sealed partial class StartupTasks(
    DatabaseMigrator migrator,
    UserDirectory users,
    DeckyFleet fleet,
    IOptions<StorageOptions> storage,
    IConfiguration configuration,
    IWebHostEnvironment environment,
    ILogger<StartupTasks> logger) : IHostedService
{
    /// <summary>The script every dashboard page loads; without it there is no circuit.</summary>
    public const string FrameworkScript = "_framework/blazor.web.js";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var logs = configuration.GetSection(LoggingOptions.Section).Get<LoggingOptions>()?.Directory ?? "logs";
        LogFolders(logger, storage.Value.DataPath, storage.Value.DatabasePath, Path.GetFullPath(logs));
        if (!environment.WebRootFileProvider.GetFileInfo(FrameworkScript).Exists)
        {
            LogAssetsMissing(logger, environment.WebRootPath ?? environment.ContentRootPath);
        }
        await migrator.MigrateAsync(cancellationToken);
        await users.SeedAdministratorAsync(cancellationToken);
        await fleet.RestoreAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Data folder {DataFolder} (database {Database}); process logs in {LogFolder}")]
    private static partial void LogFolders(ILogger logger, string dataFolder, string database, string logFolder);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dashboard's static files are not under {WebRoot}: pages will load without their scripts. " +
        "Start a published build from its own folder (the working directory is the content root), or use dotnet run --project Decnet.Web.")]
    private static partial void LogAssetsMissing(ILogger logger, string webRoot);
}
