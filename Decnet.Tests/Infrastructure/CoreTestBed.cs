using Decnet.Core;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// The real domain services on a real, migrated database: an SQLite file in a temp folder, or a fresh
/// database of its own on the test PostgreSQL server (<see cref="PostgresServer"/>). Used by unit tests of
/// the services and by bUnit tests of the pages (no fakes of our own code).
/// </summary>
public sealed class CoreTestBed : IAsyncDisposable
{
    public const string AdminPassword = "initial-admin-pw";
    private readonly TempDirectory _directory = new("decnet-core");
    private string? _postgresDatabase;
    private PostgresServer? _server;

    private CoreTestBed(IReadOnlyDictionary<string, string?> settings, TimeProvider? time)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings(_directory.Path, settings)).Build();
        Configuration = configuration;
        var services = new ServiceCollection();
        Register(services, configuration, time);
        Services = services.BuildServiceProvider();
    }

    public IConfiguration Configuration { get; }
    public ServiceProvider Services { get; }
    public string DataDirectory => _directory.Path;
    public UserDirectory Users => Services.GetRequiredService<UserDirectory>();

    /// <summary>The PostgreSQL database of this bed (null on SQLite).</summary>
    public string? PostgresConnectionString => _postgresDatabase;

    public StorageProvider Provider => Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value.Kind;

    public static Task<CoreTestBed> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null) =>
        StartAsync(StorageProvider.Sqlite, settings, time);

    /// <param name="server">For PostgreSQL: the server to make the database on (default: the shared test server).</param>
    public static async Task<CoreTestBed> StartAsync(StorageProvider provider, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null, PostgresServer? server = null)
    {
        var values = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        string? database = null;
        if (provider == StorageProvider.Postgres)
        {
            server ??= await PostgresServer.SharedAsync();
            database = await server.CreateDatabaseAsync();
            values["Decnet:Storage:Provider"] = "Postgres";
            values["Decnet:Storage:ConnectionString"] = database;
        }
        var bed = new CoreTestBed(values, time) { _postgresDatabase = database, _server = server };
        await bed.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        await bed.Users.SeedAdministratorAsync(CancellationToken.None);
        return bed;
    }

    /// <summary>Adds the same registrations to another container (bUnit's).</summary>
    public static void Register(IServiceCollection services, IConfiguration configuration, TimeProvider? time = null)
    {
        services.AddSingleton(configuration);
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        if (time is not null)
        {
            services.AddSingleton(time);
        }
        services.AddDecnetCore();
        services.AddDecnetFleet();
    }

    public static Dictionary<string, string?> Settings(string dataDirectory, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Decnet:Storage:DataDirectory"] = dataDirectory,
            ["Decnet:Users:AdminUser"] = "admin",
            ["Decnet:Users:AdminPassword"] = AdminPassword,
            // bcrypt cost 4 keeps the suite fast; production's 12 is asserted separately.
            ["Decnet:Users:BcryptWorkFactor"] = "4",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        return values;
    }

    /// <summary>A user whose password is already changed, ready to use.</summary>
    public async Task<User> CreateActiveUserAsync(string username, string password, UserRole role)
    {
        var created = await Users.CreateAsync("test", username, password + "-temp", role, CancellationToken.None);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        var changed = await Users.ChangePasswordAsync(created.User!.Id, password + "-temp", password, CancellationToken.None);
        Assert.True(changed.Succeeded, string.Join(" ", changed.Errors));
        return changed.User!;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_postgresDatabase is not null)
        {
            await _server!.DropDatabaseAsync(_postgresDatabase);
        }
        _directory.Dispose();
    }
}
