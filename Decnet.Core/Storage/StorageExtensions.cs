using Decnet.Core.Configuration;
using Decnet.Core.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Decnet.Core.Storage;

public static class StorageExtensions
{
    public static IServiceCollection AddDecnetStorage(this IServiceCollection services)
    {
        services.AddValidatedOptions<StorageOptions, StorageOptionsValidator>(StorageOptions.Section);
        // One data source (connection pool, prepared statement cache) for EF and the raw ingest commands alike.
        services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.PostgresConnectionString()));
        services.AddPooledDbContextFactory<DecnetDbContext>((sp, options) =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (storage.Kind == StorageProvider.Postgres)
            {
                ConfigurePostgres(options, sp.GetRequiredService<NpgsqlDataSource>());
            }
            else
            {
                ConfigureSqlite(options, storage);
            }
        });
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContext());
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<DatabaseReaders>();
        return services;
    }

    public static void ConfigureSqlite(DbContextOptionsBuilder options, StorageOptions storage)
    {
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = storage.DatabasePath,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, storage.BusyTimeoutMs / 1000),
        }.ToString();
        options.UseSqlite(connection, sqlite => sqlite.MigrationsAssembly(typeof(DecnetDbContext).Assembly.GetName().Name))
            .AddInterceptors(new SqlitePragmas(storage.BusyTimeoutMs));
    }

    public static void ConfigurePostgres(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsAssembly(typeof(PostgresMigrationContext).Assembly.GetName().Name));
}
