using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Storage;
using Decnet.Core.Users;

namespace Decnet.Web.Extensions;

/// <summary>
/// Before the first request: migrate the database, seed the administrator, and bring the stored
/// deployment back up (in-process deckies do not outlive the process).
/// </summary>
public sealed class StartupTasks(DatabaseMigrator migrator, UserDirectory users, DeckyFleet fleet) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        await users.SeedAdministratorAsync(cancellationToken);
        await fleet.RestoreAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
