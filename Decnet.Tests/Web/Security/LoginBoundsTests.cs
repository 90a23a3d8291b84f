using System.Net;
using System.Text;
using System.Text.Json;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Account;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Web.Security;

/// <summary>Hostile login input sent to the master's real Kestrel listener.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class LoginBoundsTests
{
    [Fact]
    public async Task Login_bodies_over_four_kilobytes_get_413_problem_details_declared_or_chunked()
    {
        await using var master = ListeningMaster.Start();
        using var client = master.Client();
        var huge = JsonSerializer.Serialize(new { username = "admin", password = new string('p', 1024 * 1024) });

        var declared = await client.PostAsync("/api/v1/auth/login", new StringContent(huge, Encoding.UTF8, "application/json"));
        // No Content-Length: the limit has to hold while the body streams in.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        chunked.Headers.TransferEncodingChunked = true;
        var streamed = await client.SendAsync(chunked);

        foreach (var response in new[] { declared, streamed })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(413, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32());
        }
        Assert.Equal(true, streamed.RequestMessage!.Headers.TransferEncodingChunked);
        // A real login is far below the limit and still works.
        using var fresh = master.Client();
        Assert.Equal(HttpStatusCode.OK, (await ListeningMaster.PostLoginAsync(fresh, "admin", DecnetWebFactory.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task Dashboard_login_forms_over_four_kilobytes_get_413_and_normal_forms_still_answer()
    {
        await using var master = ListeningMaster.Start();
        using var client = master.Client(cookies: true);
        var page = await client.GetStringAsync("/account/login");
        var token = ListeningMaster.AntiforgeryToken(page);

        HttpContent Form(string username) => new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Username"] = username,
            ["Input.Password"] = "wrong-password-here",
        });

        var oversized = await client.PostAsync("/account/login", Form(new string('u', (int)AuthApi.MaxCredentialRequestBytes * 2)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized.StatusCode);
        // Streamed without a length, the form is cut at the same limit while it arrives and refused.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/account/login") { Content = Form(new string('u', (int)AuthApi.MaxCredentialRequestBytes * 2)) };
        chunked.Headers.TransferEncodingChunked = true;
        var streamed = await client.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.BadRequest, streamed.StatusCode);
        Assert.False(streamed.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("decnet.session", StringComparison.Ordinal)));

        var normal = await client.PostAsync("/account/login", Form("admin"));
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
        Assert.Contains("Invalid username or password.", await normal.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Long_usernames_are_cut_before_the_throttle_and_the_log()
    {
        await using var master = ListeningMaster.Start(new Dictionary<string, string?>
        {
            ["Decnet:Users:UsernameFailuresBeforeDelay"] = "3",
            ["Decnet:Users:UsernameDelayBase"] = "00:10:00",
            ["Decnet:Users:UsernameDelayMax"] = "01:00:00",
        });
        using var client = master.Client();
        var prefix = new string('a', UsernameRules.MaximumLength + 1);
        // Different 3000-character names that share the first 65 characters: one throttle key.
        // Three free failures and a fourth that starts the wait, all on the same key ...
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await ListeningMaster.PostLoginAsync(client, prefix + new string((char)('b' + i), 3000), "wrong-password")).StatusCode);
        }
        // ... so a fifth variant waits.
        var fifth = await ListeningMaster.PostLoginAsync(client, prefix + new string('z', 3000), "wrong-password");
        Assert.Equal(HttpStatusCode.TooManyRequests, fifth.StatusCode);
        Assert.Contains("username", await fifth.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var log = await master.WaitForLogAsync("Login refused for ");
        Assert.Contains(new string('a', UsernameRules.MaximumLength) + "…(+", log, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('a', UsernameRules.MaximumLength + 1), log, StringComparison.Ordinal);
        Assert.DoesNotContain("bbbb", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_characters_in_usernames_never_forge_log_lines()
    {
        await using var master = ListeningMaster.Start();
        using var client = master.Client();
        const string forged = "[12:00:00 INF] Login of admin from 10.9.9.9";
        var hostile = "eve\r\n" + forged + "\n\u001b[2J\u2028\u202Eevil";

        Assert.Equal(HttpStatusCode.Unauthorized, (await ListeningMaster.PostLoginAsync(client, hostile, "wrong-password")).StatusCode);

        var log = await master.WaitForLogAsync("Failed login for eve");
        var lines = log.Split('\n');
        Assert.DoesNotContain(lines, line => line.TrimEnd('\r').StartsWith(forged, StringComparison.Ordinal));
        var line = Assert.Single(lines, l => l.Contains("Failed login for eve", StringComparison.Ordinal));
        Assert.Contains(@"eve\u000D\u000A[12:00:00 INF] Login of admin from 10.9.9.9\u000A\u001B[2J\u2028\u202Eevil", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', log);
        Assert.DoesNotContain('\u2028', log);
        Assert.DoesNotContain('\u202E', log);
    }

    [Fact]
    public async Task A_flood_of_distinct_usernames_keeps_the_throttle_within_its_key_limit()
    {
        await using var master = ListeningMaster.Start(new Dictionary<string, string?>
        {
            ["Decnet:Users:MaxThrottleKeys"] = "100",
            ["Decnet:Users:MaxFailuresPerAddress"] = "100000",
        });
        using var client = master.Client();
        var throttle = master.Factory.Services.GetRequiredService<LoginThrottle>();
        var peak = 0;
        for (var i = 0; i < 400; i++)
        {
            var response = await ListeningMaster.PostLoginAsync(client, $"spray-{i}-{new string('x', 50)}", "wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            peak = Math.Max(peak, throttle.TrackedKeys);
        }
        Assert.True(peak <= 101, $"the throttle held {peak} keys");
        // The flood cost the real administrator nothing.
        using var admin = master.Client(ListeningMaster.RandomLoopback());
        Assert.Equal(HttpStatusCode.OK, (await ListeningMaster.PostLoginAsync(admin, "admin", DecnetWebFactory.AdminPassword)).StatusCode);
    }
}
