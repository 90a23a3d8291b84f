using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Security;

/// <summary>
/// Guessing the admin's password over the real listener, from distinct loopback source addresses:
/// the guesser is slowed, the admin elsewhere is not. The first wait is ten minutes so that no
/// assertion depends on how fast this machine is.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class LockoutTests
{
    private static readonly Dictionary<string, string?> SlowDelays = new()
    {
        ["Decnet:Users:UsernameFailuresBeforeDelay"] = "5",
        ["Decnet:Users:UsernameDelayBase"] = "00:10:00",
        ["Decnet:Users:UsernameDelayMax"] = "1.00:00:00",
    };

    [Fact]
    public async Task Guessing_from_one_address_slows_that_address_with_growing_waits_while_the_admin_signs_in_from_another()
    {
        await using var master = ListeningMaster.Start(SlowDelays);
        using var guesser = master.Client(ListeningMaster.RandomLoopback());
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await ListeningMaster.PostLoginAsync(guesser, "admin", "guess-" + i)).StatusCode);
        }
        // Even the right password waits at the guessing address.
        var first = await ListeningMaster.PostLoginAsync(guesser, "admin", DecnetWebFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        var firstWait = RetryAfterSeconds(first);
        Assert.InRange(firstWait, 590, 600);

        // Each new guessing address gets one try, and each failure doubles the wait.
        using var second = master.Client(ListeningMaster.RandomLoopback());
        Assert.Equal(HttpStatusCode.Unauthorized, (await ListeningMaster.PostLoginAsync(second, "admin", "guess-x")).StatusCode);
        var secondWait = RetryAfterSeconds(await ListeningMaster.PostLoginAsync(guesser, "admin", "guess-y"));
        using var third = master.Client(ListeningMaster.RandomLoopback());
        Assert.Equal(HttpStatusCode.Unauthorized, (await ListeningMaster.PostLoginAsync(third, "admin", "guess-z")).StatusCode);
        var thirdWait = RetryAfterSeconds(await ListeningMaster.PostLoginAsync(second, "admin", "guess-w"));
        Assert.InRange(secondWait, 1190, 1200);
        Assert.InRange(thirdWait, 2390, 2400);

        // The admin, at an address that never failed, is not locked out.
        using var admin = master.Client(ListeningMaster.RandomLoopback());
        var login = await ListeningMaster.PostLoginAsync(admin, "admin", DecnetWebFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task Without_known_proxies_forwarded_headers_are_ignored_and_cannot_launder_a_guessing_address()
    {
        await using var master = ListeningMaster.Start(SlowDelays);
        using var guesser = master.Client(ListeningMaster.RandomLoopback());
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostViaAsync(guesser, $"198.51.100.{i + 1}", "wrong-" + i)).StatusCode);
        }
        // A fresh forwarded address does not make the guesser look new.
        var laundered = await PostViaAsync(guesser, "203.0.113.99", DecnetWebFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, laundered.StatusCode);
        var log = await master.WaitForLogAsync("Login refused for admin");
        Assert.DoesNotContain("198.51.100.", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_known_proxy_the_forwarded_client_address_is_the_one_throttled()
    {
        var proxy = ListeningMaster.RandomLoopback();
        var settings = new Dictionary<string, string?>(SlowDelays) { ["Decnet:Web:ForwardedHeaders:KnownProxies"] = proxy + ", 10.255.0.0/16" };
        await using var master = ListeningMaster.Start(settings);
        using var viaProxy = master.Client(proxy);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostViaAsync(viaProxy, "198.51.100.7", "wrong-" + i)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostViaAsync(viaProxy, "198.51.100.7", DecnetWebFactory.AdminPassword)).StatusCode);
        // The same proxy carries the admin from another address: not slowed.
        Assert.Equal(HttpStatusCode.OK, (await PostViaAsync(viaProxy, "203.0.113.9", DecnetWebFactory.AdminPassword)).StatusCode);

        var log = await master.WaitForLogAsync("Login of admin from 203.0.113.9");
        Assert.Contains("Failed login for admin from 198.51.100.7", log, StringComparison.Ordinal);
        Assert.DoesNotContain($"from {proxy}", log, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostViaAsync(HttpClient client, string forwardedFor, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = JsonContent.Create(new { username = "admin", password }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    private static int RetryAfterSeconds(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        return int.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
    }
}
