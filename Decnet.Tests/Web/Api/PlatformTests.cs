using System.Net;
using System.Text.Json;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Decnet.Tests.Web.Api;

[Trait("Category", TestCategories.Integration)]
public sealed class PlatformTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();
    private string _viewerToken = "";

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewerToken = (await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer)).Token;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task The_migration_creates_every_table_on_an_empty_database_file()
    {
        var path = Path.Combine(_factory.DataDirectory, "decnet.db");
        Assert.True(File.Exists(path));
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly");
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        foreach (var table in new[] { "users", "logs", "bounty", "attackers", "attacker_behavior", "swarm_hosts", "decky_shards",
                     "revoked_fingerprints", "deployments", "deckies", "system_settings", "pipeline_cursors", "audit_log", "__EFMigrationsHistory" })
        {
            Assert.Contains(table, tables);
        }
        await using var journal = connection.CreateCommand();
        journal.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await journal.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Health_reports_the_database_component_and_liveness_needs_no_login()
    {
        using var anonymous = _factory.CreateClient();
        Assert.Equal("alive", await anonymous.GetStringAsync("/alive"));

        using var client = _factory.CreateClient(_viewerToken);
        JsonElement body = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var response = await client.GetAsync("/api/v1/health");
            body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (body.GetProperty("status").GetString() == "healthy")
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        var database = body.GetProperty("components").GetProperty("database");
        Assert.Equal("ok", database.GetProperty("status").GetString());
        Assert.True(database.GetProperty("critical").GetBoolean());
    }

    [Fact]
    public async Task The_openapi_document_lists_every_status_code_including_401_and_403()
    {
        using var client = _factory.CreateClient(_viewerToken);
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");
        var login = paths.GetProperty("/api/v1/auth/login").GetProperty("post").GetProperty("responses");
        Assert.True(login.TryGetProperty("401", out _));
        Assert.True(login.TryGetProperty("429", out _));
        Assert.False(login.TryGetProperty("403", out _));
        var createUser = paths.GetProperty("/api/v1/config/users").GetProperty("post").GetProperty("responses");
        foreach (var code in new[] { "201", "400", "401", "403", "409" })
        {
            Assert.True(createUser.TryGetProperty(code, out _), $"create user lacks {code}");
        }
        // Shared (cached-bytes) responses are documented like any other 200 with a body.
        foreach (var path in new[] { "/api/v1/stats", "/api/v1/logs", "/api/v1/logs/histogram", "/api/v1/attackers", "/api/v1/bounty" })
        {
            var ok = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200");
            Assert.True(ok.GetProperty("content").GetProperty("application/json").TryGetProperty("schema", out _), $"{path} 200 has no schema");
        }
        var deleteUser = paths.GetProperty("/api/v1/config/users/{id}").GetProperty("delete").GetProperty("responses");
        Assert.True(deleteUser.TryGetProperty("404", out _));

        using var anonymous = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Pages_carry_security_headers_and_anonymous_visitors_are_sent_to_login()
    {
        using var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var home = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/account/login", home.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        var login = await client.GetAsync("/account/login");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", login.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/config")).StatusCode);
    }
}
