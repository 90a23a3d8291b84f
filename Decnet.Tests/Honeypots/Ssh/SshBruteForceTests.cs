using System.Globalization;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>The traffic SSH honeypots mostly see: a password-guessing tool, here hydra (libssh).</summary>
[Trait("Category", "Integration")]
public sealed class SshBruteForceTests
{
    [Fact]
    public async Task Hydra_brute_force_is_captured_attempt_by_attempt_and_finds_the_weak_password()
    {
        Assert.True(ClientProcess.Exists("hydra"), "hydra is not installed (apt-get install hydra)");
        await using var host = await SshTestHost.StartAsync();
        string[] guesses = ["123456", "password", "toor", "admin", "qwerty", "root"];
        var list = Path.Combine(host.Root, "passwords.txt");
        await File.WriteAllLinesAsync(list, guesses, TestContext.Current.CancellationToken);

        var result = await ClientProcess.RunAsync("hydra", ["-l", "root", "-P", list, "-s", host.Port.ToString(CultureInfo.InvariantCulture), "-t", "4", "-I", "127.0.0.1", "ssh"], timeoutMs: 120_000);

        Assert.Matches(@"login: root\s+password: admin", result.Stdout);
        // Hydra exits the moment it reads USERAUTH_SUCCESS: the successful attempt's event is awaited
        // rather than expected to be in the sink at the instant the client process ends.
        await host.Sink.WaitForAsync("auth_attempt", a => a.Field("password") == "admin");
        var tried = host.Sink.OfType("auth_attempt").Where(a => a.Field("username") == "root").Select(a => a.Field("password")!).ToHashSet();
        // Hydra stops guessing a login once it has found its password, so only the guesses up to the hit are certain.
        Assert.Subset(guesses[..4].ToHashSet(), tried);
        Assert.Contains(host.Sink.OfType("connect"), c => c.Field("client_version")!.Contains("libssh", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(host.Errors);
    }
}
