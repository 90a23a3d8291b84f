using Decnet.Core.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Decnet.Core.Storage;

/// <summary>
/// Creates the data folder and applies pending migrations: on SQLite after switching the file to WAL, on
/// PostgreSQL through <see cref="PostgresMigrationContext"/>, the context that owns that provider's
/// migrations (EF creates the database when the user may and it does not exist yet).
/// </summary>
public sealed class DatabaseMigrator(
    IDbContextFactory<DecnetDbContext> factory, IOptions<StorageOptions> options, IServiceProvider services, ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var storage = options.Value;
        if (storage.Kind == StorageProvider.Postgres)
        {
            // Keys, artifacts and SIEM files still live in the data folder.
            CreatePrivateFolder(storage.DataPath);
            await MigratePostgresAsync(storage, cancellationToken);
        }
        else
        {
            await MigrateSqliteAsync(storage, cancellationToken);
        }
    }

    private static void CreatePrivateFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private async Task MigratePostgresAsync(StorageOptions storage, CancellationToken cancellationToken)
    {
        var builder = new DbContextOptionsBuilder<PostgresMigrationContext>();
        StorageExtensions.ConfigurePostgres(builder, services.GetRequiredService<NpgsqlDataSource>());
        await using var db = new PostgresMigrationContext(builder.Options);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying {Count} PostgreSQL migration(s) on {Server}: {Migrations}",
                pending.Count, PostgresConnection.Describe(storage.PostgresConnectionString()), string.Join(", ", pending));
            await db.Database.MigrateAsync(cancellationToken);
        }
    }

    private async Task MigrateSqliteAsync(StorageOptions storage, CancellationToken cancellationToken)
    {
        CreatePrivateFolder(Path.GetDirectoryName(storage.DatabasePath)!);

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            await using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                await wal.ExecuteScalarAsync(cancellationToken);
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} database migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
