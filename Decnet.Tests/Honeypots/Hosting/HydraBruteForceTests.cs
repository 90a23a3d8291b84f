using Decnet.Core.Honeypots.Ftp;
using Decnet.Core.Honeypots.Http;
using Decnet.Core.Honeypots.Redis;
using Decnet.Core.Honeypots.Smtp;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>A brute forcer's every guess must become a credential event with the attacker's address.</summary>
public sealed class HydraBruteForceTests
{
    private static readonly string[] Users = ["root", "admin", "oracle"];
    private static readonly string[] Passwords = ["123456", "P@ssw0rd", "letmein!"];

    private static async Task<(string Users, string Passwords)> WordlistsAsync(TestDecky decky)
    {
        var users = Path.Combine(decky.Root, "users.txt");
        var passwords = Path.Combine(decky.Root, "passwords.txt");
        await File.WriteAllLinesAsync(users, Users);
        await File.WriteAllLinesAsync(passwords, Passwords);
        return (users, passwords);
    }

    /// <summary>
    /// Hydra exits on the last answer it reads; the service emits that guess's event just after writing the
    /// answer, so the last events get a few seconds to arrive before the pairs are counted.
    /// </summary>
    private static async Task AssertEveryPairCapturedAsync(TestDecky decky, string eventType, int expectedAtLeast)
    {
        HashSet<(string?, string?)> Captured() => decky.Sink.OfType(eventType).Select(e => (e.Field("username"), e.Field("password"))).ToHashSet();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Captured().Count < expectedAtLeast && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        var captured = Captured();
        Assert.True(captured.Count >= expectedAtLeast, $"captured {captured.Count} pairs: {string.Join(", ", captured)}");
        Assert.All(decky.Sink.OfType(eventType), e => Assert.False(string.IsNullOrEmpty(e.Field("src_ip"))));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_against_smtp_has_every_guess_captured()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpHoneypotFactory(), ports: [new(25)]);
        var (users, passwords) = await WordlistsAsync(decky);
        var run = await RealClient.RunAsync("hydra", ["-L", users, "-P", passwords, "-t", "2", "-W", "1", "-I", $"smtp://{decky.Address}/PLAIN"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
        await AssertEveryPairCapturedAsync(decky, "auth_attempt", Users.Length * Passwords.Length);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_against_ftp_finds_the_door_open_and_every_guess_is_captured()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new FtpHoneypotFactory());
        var (users, passwords) = await WordlistsAsync(decky);
        var run = await RealClient.RunAsync("hydra", ["-L", users, "-P", passwords, "-t", "2", "-W", "1", "-I", $"ftp://{decky.Address}"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("valid password", run.StdOut, StringComparison.Ordinal);
        // The FTP decky accepts any login, so hydra stops at the first password that works for each user.
        await AssertEveryPairCapturedAsync(decky, "auth_attempt", Users.Length);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_against_a_protected_redis_has_every_guess_captured()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new RedisHoneypotFactory(), new Dictionary<string, string> { ["password"] = "not-in-the-list" });
        var (_, passwords) = await WordlistsAsync(decky);
        var run = await RealClient.RunAsync("hydra", ["-P", passwords, "-t", "2", "-W", "1", "-I", $"redis://{decky.Address}"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
        var guessed = decky.Sink.OfType("auth").Select(e => e.Field("password")).ToHashSet();
        Assert.Superset(Passwords.ToHashSet(), guessed!);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_against_the_wordpress_login_form_has_every_guess_captured()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = "wordpress" });
        var (users, passwords) = await WordlistsAsync(decky);
        var run = await RealClient.RunAsync("hydra", ["-L", users, "-P", passwords, "-t", "2", "-W", "1", "-I", decky.Address.ToString(),
            "http-post-form", "/wp-login.php:log=^USER^&pwd=^PASS^&wp-submit=Log+In:F=is incorrect"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
        await AssertEveryPairCapturedAsync(decky, "login_attempt", Users.Length * Passwords.Length);
    }
}
