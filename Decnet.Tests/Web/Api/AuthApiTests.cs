using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Api;

[Trait("Category", TestCategories.Integration)]
public sealed class AuthApiTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();

    public ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Login_returns_a_bearer_token_that_opens_protected_endpoints_after_the_forced_change()
    {
        using var anonymous = _factory.CreateClient();
        var login = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = DecnetWebFactory.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("bearer", body.GetProperty("token_type").GetString());
        Assert.True(body.GetProperty("must_change_password").GetBoolean());
        var token = body.GetProperty("access_token").GetString()!;

        using var client = _factory.CreateClient(token);
        var blocked = await client.GetAsync("/api/v1/config");
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Contains("Password change required", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var change = await client.PostAsJsonAsync("/api/v1/auth/change-password", new { old_password = DecnetWebFactory.AdminPassword, new_password = "brand-new-admin-password" });
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var fresh = JsonDocument.Parse(await change.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;

        // The token used for the change is revoked with the old stamp; the fresh one works.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/config")).StatusCode);
        using var renewed = _factory.CreateClient(fresh);
        var config = await renewed.GetAsync("/api/v1/config");
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
        var json = JsonDocument.Parse(await config.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("admin", json.GetProperty("role").GetString());
        Assert.Equal(10, json.GetProperty("deployment_limit").GetInt32());
        Assert.Equal("30m", json.GetProperty("global_mutation_interval").GetString());
    }

    [Fact]
    public async Task Wrong_credentials_get_401_problem_details_and_no_hint_about_which_part_was_wrong()
    {
        using var client = _factory.CreateClient();
        var unknownUser = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "ghost", password = "whatever-password" });
        var wrongPassword = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "whatever-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal("application/problem+json", unknownUser.Content.Headers.ContentType?.MediaType);
        var first = JsonDocument.Parse(await unknownUser.Content.ReadAsStringAsync()).RootElement;
        var second = JsonDocument.Parse(await wrongPassword.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
        Assert.Equal("Invalid username or password.", first.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Malformed_login_bodies_get_400()
    {
        using var client = _factory.CreateClient();
        var empty = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "" });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        var garbage = await client.PostAsync("/api/v1/auth/login", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [Fact]
    public async Task A_new_password_shorter_than_twelve_characters_is_refused_with_a_clear_message()
    {
        var token = await _factory.LoginAsync("admin", DecnetWebFactory.AdminPassword);
        using var client = _factory.CreateClient(token);
        var response = await client.PostAsJsonAsync("/api/v1/auth/change-password", new { old_password = DecnetWebFactory.AdminPassword, new_password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at least 12 characters", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var tooLong = await client.PostAsJsonAsync("/api/v1/auth/change-password", new { old_password = DecnetWebFactory.AdminPassword, new_password = new string('é', 40) });
        Assert.Contains("72 bytes", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_revokes_every_token_of_the_user()
    {
        var (_, token) = await _factory.CreateActiveUserAsync("leaver", UserRole.Viewer);
        var second = await _factory.LoginAsync("leaver", "leaver-password-1");
        using var client = _factory.CreateClient(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/config")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/config")).StatusCode);
        using var other = _factory.CreateClient(second);
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync("/api/v1/config")).StatusCode);
    }

    [Fact]
    public async Task A_deleted_users_token_stops_working_at_once()
    {
        var (admin, adminToken) = await _factory.CreateActiveUserAsync("boss", UserRole.Admin);
        var (victim, victimToken) = await _factory.CreateActiveUserAsync("temp", UserRole.Viewer);
        using var adminClient = _factory.CreateClient(adminToken);
        Assert.Equal(HttpStatusCode.OK, (await adminClient.DeleteAsync($"/api/v1/config/users/{victim.Id}")).StatusCode);
        using var victimClient = _factory.CreateClient(victimToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await victimClient.GetAsync("/api/v1/config")).StatusCode);
        Assert.NotEqual(admin.Id, victim.Id);
    }

    [Fact]
    public async Task A_forged_token_signed_with_another_key_is_refused()
    {
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler();
        var forged = handler.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "decnet",
            Audience = "decnet-api",
            Claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["role"] = "admin", ["stamp"] = "x" },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(new byte[64]), "HS256"),
        });
        using var client = _factory.CreateClient(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/config")).StatusCode);
    }
}

[Trait("Category", TestCategories.Integration)]
public sealed class LoginRateLimitTests
{
    [Fact]
    public async Task Login_calls_beyond_the_per_address_rate_get_429_with_retry_after()
    {
        await using var factory = new DecnetWebFactory(new Dictionary<string, string?> { ["Decnet:Auth:LoginAttemptsPerMinute"] = "2" });
        using var client = factory.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "nobody", password = "nothing-here-" + i })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var last = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "nobody", password = "x" });
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.True(last.Headers.RetryAfter is not null);
    }
}
