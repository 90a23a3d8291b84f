using Decnet.Core.Storage;
using Decnet.Core.Users;

namespace Decnet.Web.Extensions;

/// <summary>Migrates the database and seeds the administrator before the first request is served.</summary>
public sealed class StartupTasks(DatabaseMigrator migrator, UserDirectory users) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        await users.SeedAdministratorAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
