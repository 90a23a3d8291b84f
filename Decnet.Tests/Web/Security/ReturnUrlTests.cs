using System.Net;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Security;

/// <summary>The login form's return URL, signed in through the real listener: only local paths are followed.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ReturnUrlTests
{
    [Fact]
    public async Task Sign_in_follows_local_return_paths_and_sends_every_other_return_url_home()
    {
        await using var master = ListeningMaster.Start();
        await master.Factory.CreateActiveUserAsync("operator", UserRole.Viewer);
        var cases = new (string ReturnUrl, string Expected)[]
        {
            ("/attackers?sort=last_seen", "/attackers?sort=last_seen"),
            ("/logs", "/logs"),
            ("//evil.example/phish", "/"),
            ("/\\evil.example/phish", "/"),
            ("https://evil.example/", "/"),
            ("javascript:alert(1)", "/"),
            ("/\t/evil.example", "/"),
            ("/\r\nSet-Cookie: x=1", "/"),
            ("/\u007f/evil.example", "/"),
            ("~/config", "/"),
            ("/account/logout", "/"),
            ("evil.example", "/"),
        };

        foreach (var (returnUrl, expected) in cases)
        {
            using var client = master.Client(cookies: true);
            var query = "?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
            var token = ListeningMaster.AntiforgeryToken(await client.GetStringAsync("/account/login" + query));
            var response = await client.PostAsync("/account/login" + query, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = token,
                ["Input.Username"] = "operator",
                ["Input.Password"] = "operator-password-1",
            }));

            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{returnUrl}: {response.StatusCode}");
            var location = response.Headers.Location!;
            var target = location.IsAbsoluteUri ? location : new Uri(master.BaseAddress, location);
            Assert.True(target.Authority == master.BaseAddress.Authority && target.PathAndQuery == expected,
                $"return URL {Uri.EscapeDataString(returnUrl)} led to {location}");
        }
    }
}
