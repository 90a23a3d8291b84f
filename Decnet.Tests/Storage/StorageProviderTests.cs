using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Decnet.Core.Storage.Postgres;
using Decnet.Core.Users;
using Decnet.Tests.Events.Collection;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Decnet.Tests.Storage;

/// <summary>
/// Choosing the database: the storage settings are validated with every problem named, both providers'
/// migrations match the model, and the real master process runs on a real PostgreSQL server from its
/// DECNET_* environment.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class StorageProviderTests
{
    private static readonly StorageOptionsValidator Validator = new();

    [Fact]
    public void Every_storage_problem_is_reported_at_once_naming_the_key_and_its_variable()
    {
        var result = Validator.Validate(null, new StorageOptions { Provider = "oracle", ReaderConnections = 0, BusyTimeoutMs = 5 });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.Contains("Decnet:Storage:Provider (DECNET_DB_TYPE) is 'oracle'", StringComparison.Ordinal) && f.Contains("Sqlite or Postgres", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Decnet:Storage:ReaderConnections", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Decnet:Storage:BusyTimeoutMs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, "is required with the Postgres provider")]
    [InlineData("Host=db;Username=decnet;Password=hunter2-secret", "names no Database")]
    [InlineData("Database=decnet;Username=decnet", "names no Host")]
    [InlineData("Host=db;Database=decnet;Username=decnet;Password=hunter2-secret;Frobnicate=yes", "cannot be read")]
    public void A_postgres_connection_setting_that_cannot_work_is_refused_without_echoing_its_password(string? connection, string expected)
    {
        var result = Validator.Validate(null, new StorageOptions { Provider = "postgresql", ConnectionString = connection });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Decnet:Storage:ConnectionString (DECNET_DB_CONNECTION): ", failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_postgresql_uri_is_read_as_the_same_connection_as_its_keyword_form()
    {
        var options = new StorageOptions { Provider = "Postgres", ConnectionString = "postgresql://decnet:p%40ss%3Bword@10.0.0.7:6432/decnet_prod?sslmode=require" };

        Assert.True(Validator.Validate(null, options).Succeeded);
        var built = new NpgsqlConnectionStringBuilder(options.PostgresConnectionString());
        Assert.Equal(("10.0.0.7", 6432, "decnet_prod", "decnet", "p@ss;word", SslMode.Require), (built.Host, built.Port, built.Database, built.Username, built.Password, built.SslMode));
        Assert.Equal(StorageProvider.Postgres, options.Kind);
        Assert.Equal("10.0.0.7:6432/decnet_prod", PostgresConnection.Describe(options.PostgresConnectionString()));
    }

    [Fact]
    public void Each_providers_migrations_produce_exactly_the_current_model()
    {
        // A model change needs a migration in both sets (see docs/ARCHITECTURE.md, Storage).
        var sqlite = new DbContextOptionsBuilder<DecnetDbContext>();
        StorageExtensions.ConfigureSqlite(sqlite, new StorageOptions { DataDirectory = Path.GetTempPath(), DatabaseFile = "never-opened.db" });
        using (var db = new DecnetDbContext(sqlite.Options))
        {
            Assert.False(db.Database.HasPendingModelChanges(), "the SQLite migrations (Storage/Migrations) lag behind the model");
        }
        var postgres = new DbContextOptionsBuilder<PostgresMigrationContext>();
        postgres.UseNpgsql("Host=127.0.0.1;Database=never-opened;Username=nobody");
        using (var db = new PostgresMigrationContext(postgres.Options))
        {
            Assert.False(db.Database.HasPendingModelChanges(), "the PostgreSQL migrations (Storage/Postgres/Migrations) lag behind the model");
        }
    }

    [Fact]
    public async Task On_postgres_user_names_stay_unique_whatever_their_case_and_malformed_fields_json_is_refused()
    {
        await using var bed = await CoreTestBed.StartAsync(StorageProvider.Postgres);

        var duplicate = await bed.Users.CreateAsync("test", "ADMIN", "some-long-password-1", UserRole.Viewer, CancellationToken.None);
        Assert.False(duplicate.Succeeded);
        var found = await bed.Users.LoginAsync("Admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None);
        Assert.Equal("admin", found.User?.Username);

        await using var db = await bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        db.Logs.Add(new LogEntry { Decky = "d", Service = "s", EventType = "e", RawLine = "r", Fields = "{not json" });
        var refused = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, Assert.IsType<PostgresException>(refused.InnerException).SqlState);
    }

    [Fact]
    public async Task The_master_process_refuses_to_start_on_postgres_without_a_connection_and_says_which_setting()
    {
        using var data = new TempDirectory("decnet-pg-missing");
        var port = MasterProcess.FreePort(IPAddress.Loopback);
        using var master = MasterProcess.Start(Environment(data.Path, port, new() { ["DECNET_DB_TYPE"] = "postgres" }), Embedded);

        Assert.NotEqual(0, await master.WaitForExitAsync(TimeSpan.FromMinutes(3)));
        Assert.Contains("Decnet:Storage:ConnectionString (DECNET_DB_CONNECTION): is required with the Postgres provider", master.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_master_process_runs_on_postgres_from_its_environment_and_serves_what_it_ingested()
    {
        var server = await PostgresServer.SharedAsync();
        server.Require();
        var database = await server.CreateDatabaseAsync("decnet_e2e");
        try
        {
            using var data = new TempDirectory("decnet-pg-e2e");
            var spool = Path.Combine(data.Path, "spool.log");
            await File.WriteAllBytesAsync(spool, SpoolLines.Bytes(0, 40, "pg-decky"), TestContext.Current.CancellationToken);
            var address = ListeningMaster.RandomLoopback();
            var port = MasterProcess.FreePort(address);
            var environment = Environment(data.Path, port, new()
            {
                ["DECNET_WEB_HOST"] = address.ToString(),
                ["DECNET_DB_TYPE"] = "postgres",
                ["DECNET_DB_CONNECTION"] = database,
                ["DECNET_ADMIN_PASSWORD"] = CoreTestBed.AdminPassword,
            });
            using var master = MasterProcess.Start(environment, [.. Embedded, "--Decnet:Users:BcryptWorkFactor=4", "--Decnet:Ingest:Files:0:Name=spool", $"--Decnet:Ingest:Files:0:Path={spool}"]);
            await master.WaitForListeningAsync(address, port, TimeSpan.FromMinutes(3));
            using var client = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}") };

            var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = CoreTestBed.AdminPassword }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            var token = (await login.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("access_token").GetString();
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            // The seeded admin must choose its own password first (a user write on PostgreSQL too).
            var changed = await client.PostAsJsonAsync("/api/v1/auth/change-password",
                new { old_password = CoreTestBed.AdminPassword, new_password = "a-new-long-passphrase-9" }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            token = (await changed.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("access_token").GetString();
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

            JsonElement page = default;
            for (var tries = 0; tries < 300; tries++)
            {
                using var response = await client.GetAsync("/api/v1/logs?search=decky:pg-decky&limit=100", TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                page = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
                if (page.GetProperty("total").GetInt64() == 40)
                {
                    break;
                }
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
            Assert.True(page.ValueKind == JsonValueKind.Object && page.GetProperty("total").GetInt64() == 40, $"logs never reached 40: {page}\n{master.Output}");

            // The rows are in PostgreSQL, not in an SQLite file beside it.
            Assert.False(File.Exists(Path.Combine(data.Path, "decnet.db")));
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM logs WHERE \"Decky\" = 'pg-decky'", connection);
            Assert.Equal(40L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
            using var health = await client.GetAsync("/api/v1/health", TestContext.Current.CancellationToken);
            Assert.Contains("database", await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            Assert.DoesNotContain(new NpgsqlConnectionStringBuilder(database).Password!, master.Output, StringComparison.Ordinal);
        }
        finally
        {
            await server.DropDatabaseAsync(database);
        }
    }

    private static readonly string[] Embedded = ["--Decnet:Runtime:Kind=embedded", "--Decnet:Swarm:Enabled=false"];

    private static Dictionary<string, string> Environment(string data, int port, Dictionary<string, string> extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["DECNET_WEB_HOST"] = "127.0.0.1",
            ["DECNET_WEB_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DECNET_DATA_DIR"] = data,
            ["DECNET_LOG_DIRECTORY"] = Path.Combine(data, "logs"),
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        return environment;
    }
}
