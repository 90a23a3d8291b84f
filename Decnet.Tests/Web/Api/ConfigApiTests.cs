using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Api;

[Trait("Category", TestCategories.Integration)]
public sealed class ConfigApiTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();
    private User _admin = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        var (admin, token) = await _factory.CreateActiveUserAsync("chief", UserRole.Admin);
        _admin = admin;
        _client = _factory.CreateClient(token);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Admins_manage_users_end_to_end()
    {
        var created = await _client.PostAsJsonAsync("/api/v1/config/users", new { username = "analyst", password = "temporary-password-1", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.True(user.GetProperty("must_change_password").GetBoolean());
        var id = user.GetProperty("uuid").GetGuid();

        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsJsonAsync("/api/v1/config/users", new { username = "analyst", password = "temporary-password-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PostAsJsonAsync("/api/v1/config/users", new { username = "short", password = "short" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PostAsJsonAsync("/api/v1/config/users", new { username = "x", password = "temporary-password-1", role = "root" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync($"/api/v1/config/users/{id}/role", new { role = "admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PutAsJsonAsync($"/api/v1/config/users/{id}/role", new { role = "superuser" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync($"/api/v1/config/users/{id}/reset-password", new { new_password = "another-temp-password" })).StatusCode);

        var config = JsonDocument.Parse(await _client.GetStringAsync("/api/v1/config")).RootElement;
        var listed = config.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("username").GetString() == "analyst");
        Assert.Equal("admin", listed.GetProperty("role").GetString());
        Assert.True(listed.GetProperty("must_change_password").GetBoolean());

        Assert.Equal(HttpStatusCode.OK, (await _client.DeleteAsync($"/api/v1/config/users/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync($"/api/v1/config/users/{id}")).StatusCode);
    }

    [Fact]
    public async Task An_admin_cannot_delete_or_re_role_itself()
    {
        var delete = await _client.DeleteAsync($"/api/v1/config/users/{_admin.Id}");
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Contains("own account", await delete.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.PutAsJsonAsync($"/api/v1/config/users/{_admin.Id}/role", new { role = "viewer" })).StatusCode);
    }

    [Fact]
    public async Task Limits_and_interval_are_validated_and_saved()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync("/api/v1/config/deployment-limit", new { deployment_limit = 42 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PutAsJsonAsync("/api/v1/config/deployment-limit", new { deployment_limit = 501 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PutAsJsonAsync("/api/v1/config/deployment-limit", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync("/api/v1/config/global-mutation-interval", new { global_mutation_interval = "2d" })).StatusCode);
        var bad = await _client.PutAsJsonAsync("/api/v1/config/global-mutation-interval", new { global_mutation_interval = "10s" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("seconds", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var config = JsonDocument.Parse(await _client.GetStringAsync("/api/v1/config")).RootElement;
        Assert.Equal(42, config.GetProperty("deployment_limit").GetInt32());
        Assert.Equal("2d", config.GetProperty("global_mutation_interval").GetString());
    }

    [Fact]
    public async Task Viewers_read_the_config_without_the_user_list()
    {
        var (_, token) = await _factory.CreateActiveUserAsync("reader", UserRole.Viewer);
        using var viewer = _factory.CreateClient(token);
        var config = JsonDocument.Parse(await viewer.GetStringAsync("/api/v1/config")).RootElement;
        Assert.Equal("viewer", config.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, config.GetProperty("users").ValueKind);
    }

    [Fact]
    public async Task Log_retention_is_validated_saved_and_applied_at_once()
    {
        // Kept by the default 90 days, gone once the retention is 30 days.
        await Decnet.Tests.Events.LogRetentionTests.InsertAsync(_factory.Services,
            Enumerable.Range(0, 50).Select(i => DateTime.UtcNow.AddDays(-60).AddMinutes(-i)).Concat(Enumerable.Range(0, 10).Select(i => DateTime.UtcNow.AddMinutes(-i))));

        var bad = await _client.PutAsJsonAsync("/api/v1/config/log-retention", new { days = 0, max_rows = 500 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("between 1 and 3650 days", problem, StringComparison.Ordinal);
        Assert.Contains("Maximum log rows", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.PutAsJsonAsync("/api/v1/config/log-retention", new { days = 30 })).StatusCode);
        var (_, viewerToken) = await _factory.CreateActiveUserAsync("reader", UserRole.Viewer);
        using (var viewer = _factory.CreateClient(viewerToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsJsonAsync("/api/v1/config/log-retention", new { days = 1, max_rows = 1000 })).StatusCode);
        }
        Assert.Equal(60, (await Decnet.Tests.Events.LogRetentionTests.RowsAsync(_factory.Services)).Count);

        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync("/api/v1/config/log-retention", new { days = 30, max_rows = 1000 })).StatusCode);

        // The purge worker is woken by the change: no waiting for its interval.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Decnet.Tests.Events.LogRetentionTests.RowsAsync(_factory.Services)).Count != 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Equal(10, (await Decnet.Tests.Events.LogRetentionTests.RowsAsync(_factory.Services)).Count);
        var config = JsonDocument.Parse(await _client.GetStringAsync("/api/v1/config")).RootElement;
        Assert.Equal(30, config.GetProperty("log_retention_days").GetInt32());
        Assert.Equal(1000, config.GetProperty("log_retention_max_rows").GetInt64());
        Assert.Equal(10, config.GetProperty("last_log_purge").GetProperty("remaining").GetInt64());
    }
}
