using System.Net.Http.Headers;
using System.Net.Http.Json;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Infrastructure;

/// <summary>The whole master process on a temp data folder (real SQLite, real auth, real pipeline).</summary>
public sealed class DecnetWebFactory : WebApplicationFactory<Program>
{
    public const string AdminPassword = CoreTestBed.AdminPassword;
    private readonly TempDirectory _directory = new("decnet-web");
    private readonly Dictionary<string, string?> _overrides;
    private readonly Action<IServiceCollection>? _services;
    private string? _postgresDatabase;

    /// <param name="services">Extra registrations after the application's own (e.g. a keyed test clock).</param>
    public DecnetWebFactory(IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        _overrides = new Dictionary<string, string?>
        {
            ["Decnet:Auth:LoginAttemptsPerMinute"] = "10000",
            ["Decnet:Logging:Directory"] = Path.Combine(_directory.Path, "logs"),
            // Only used when a test switches to real Kestrel: any free loopback port.
            ["urls"] = "http://127.0.0.1:0",
            // Deterministic: the embedded runtime, whatever engine the machine happens to run.
            ["Decnet:Runtime:Kind"] = "embedded",
            // The swarm controller's mutual-TLS endpoint stays off (its https address would become the
            // factory client's base address); swarm tests turn it on, on a free loopback port.
            ["Decnet:Swarm:Enabled"] = "false",
            ["Decnet:Swarm:ControllerUrl"] = "https://127.0.0.1:0",
            ["Decnet:Swarm:EnrollmentUrl"] = "https://127.0.0.1:0",
            ["Decnet:Swarm:SyslogUrl"] = "127.0.0.1:0",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _overrides[key] = value;
        }
    }

    public string DataDirectory => _directory.Path;

    /// <summary>The master on <paramref name="provider"/>: for PostgreSQL, a fresh database on the test server.</summary>
    public static async Task<DecnetWebFactory> CreateAsync(StorageProvider provider, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var values = new Dictionary<string, string?>(overrides ?? new Dictionary<string, string?>());
        string? database = null;
        if (provider == StorageProvider.Postgres)
        {
            database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
            values["Decnet:Storage:Provider"] = "Postgres";
            values["Decnet:Storage:ConnectionString"] = database;
        }
        return new DecnetWebFactory(values, services) { _postgresDatabase = database };
    }

    public UserDirectory Users => Services.GetRequiredService<UserDirectory>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in CoreTestBed.Settings(_directory.Path, _overrides))
        {
            builder.UseSetting(key, value);
        }
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    public async Task<string> LoginAsync(string username, string password)
    {
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<TokenBody>();
        return body!.access_token;
    }

    public HttpClient CreateClient(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A user whose password is already changed; returns its API token.</summary>
    public async Task<(User User, string Token)> CreateActiveUserAsync(string username, UserRole role)
    {
        var password = username + "-password-1";
        var created = await Users.CreateAsync("test", username, password + "-temp", role, CancellationToken.None);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        var changed = await Users.ChangePasswordAsync(created.User!.Id, password + "-temp", password, CancellationToken.None);
        Assert.True(changed.Succeeded, string.Join(" ", changed.Errors));
        return (changed.User!, await LoginAsync(username, password));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (_postgresDatabase is not null)
            {
                PostgresServer.SharedAsync().GetAwaiter().GetResult().DropDatabaseAsync(_postgresDatabase).GetAwaiter().GetResult();
            }
            _directory.Dispose();
        }
    }

#pragma warning disable IDE1006 // wire names
    private sealed record TokenBody(string access_token, string token_type, int expires_in, bool must_change_password);
#pragma warning restore IDE1006
}
