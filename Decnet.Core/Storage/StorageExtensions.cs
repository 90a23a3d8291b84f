using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Storage;

public static class StorageExtensions
{
    public static IServiceCollection AddDecnetStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddPooledDbContextFactory<DecnetDbContext>((sp, options) =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            Configure(options, storage);
        });
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContext());
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }

    public static void Configure(DbContextOptionsBuilder options, StorageOptions storage)
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
}
