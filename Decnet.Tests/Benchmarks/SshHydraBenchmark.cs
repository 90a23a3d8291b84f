using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ssh;
using Decnet.Tests.Honeypots;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// SSH (a): how many password guesses per second one decky captures when nothing slows the attacker
/// down (failure delay off), against the real hydra, next to Debian's OpenSSH sshd under the same
/// hydra command in the same run.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed partial class SshHydraBenchmark(ITestOutputHelper output)
{
    private const int Tasks = 16;
    private static readonly string[] Users = ["root", "admin", "oracle"];

    [GeneratedRegex(@"(\d+) login tries")]
    private static partial Regex LoginTries();

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Hydra_password_attempts_per_second_decky_vs_openssh()
    {
        var report = new BenchmarkReport(output, "ssh-hydra");
        report.Machine();
        BenchmarkProcess.Require("hydra");
        Assert.True(OpenSshServer.Installed, "Debian's openssh-server is required (./bench.sh installs it).");
        var work = Directory.CreateTempSubdirectory("decnet-bench-hydra-").FullName;
        try
        {
            // 3 users x 100 passwords = 300 guesses against the decky, none of them right.
            var users = Path.Combine(work, "users.txt");
            await File.WriteAllLinesAsync(users, Users);
            var passwords = Enumerable.Range(0, 100).Select(i => string.Create(CultureInfo.InvariantCulture, $"wrong-{i:000}")).ToList();
            var wordlist = Path.Combine(work, "wordlist.txt");
            await File.WriteAllLinesAsync(wordlist, passwords);
            // PAM holds every wrong guess for about 2 s, so sshd gets a shorter list (3 x 20) to stay
            // within a minute; the figure compared is a rate, not a total.
            var shortWordlist = Path.Combine(work, "wordlist-short.txt");
            await File.WriteAllLinesAsync(shortWordlist, passwords.Take(20));

            var sink = new CollectingEventSink();
            var persona = new Dictionary<string, string>
            {
                ["failure_delay_ms"] = "0",
                ["max_auth_tries"] = "100",
                ["password"] = "Zr8!not-in-any-list",
                ["users"] = "admin:Zr8!not-in-any-list",
            };
            double decnetRate;
            await using (var decky = await BenchmarkDecky.StartAsync(new SshServiceFactory(), sink, persona, new SessionLimits(), 22))
            {
                var run = await HydraAsync(decky.EndPoint, users, wordlist, work);
                var tries = Tries(run);
                // Events are published before the reply goes out, so by the time hydra exits they are all in.
                var attempts = sink.Events.Where(e => e.EventType == "auth_attempt" && e.Field("method") == "password").ToList();
                var pairs = attempts.Select(e => (e.Field("username"), e.Field("password"))).ToHashSet();
                decnetRate = tries / run.Elapsed.TotalSeconds;
                report.Line($"decky {decky.EndPoint}: hydra made {tries} login tries in {run.Elapsed.TotalSeconds:0.00} s; captured {attempts.Count} auth_attempt events ({pairs.Count} distinct pairs)");
                Assert.Equal(Users.Length * passwords.Count, tries);
                Assert.Equal(tries, pairs.Count);
                Assert.Equal(tries, attempts.Count);
                Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
            }

            double sshdRate;
            await using (var sshd = await OpenSshServer.StartAsync(TestDecky.NextAddress()))
            {
                var run = await HydraAsync(sshd.EndPoint, users, shortWordlist, work);
                var tries = Tries(run);
                sshdRate = tries / run.Elapsed.TotalSeconds;
                report.Line($"OpenSSH sshd {sshd.EndPoint} (UsePAM yes): hydra made {tries} login tries in {run.Elapsed.TotalSeconds:0.00} s");
                Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
            }
            report.Figure($"password attempts/s, hydra -t {Tasks}, failure delay off", decnetRate, "attempts/s", "Debian OpenSSH 9.2 sshd + PAM, same hydra command", sshdRate);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<BenchmarkProcess.Result> HydraAsync(IPEndPoint target, string users, string wordlist, string work)
    {
        string[] args = ["-t", Tasks.ToString(CultureInfo.InvariantCulture), "-I", "-L", users, "-P", wordlist, $"ssh://{target.Address}:{target.Port}"];
        var run = await BenchmarkProcess.RunAsync("hydra", args, work, TimeSpan.FromMinutes(4));
        output.WriteLine($"hydra {string.Join(' ', args)}\n{run.StdOut}\n{run.StdErr}");
        return run;
    }

    private static int Tries(BenchmarkProcess.Result run)
    {
        var match = LoginTries().Match(run.StdOut);
        Assert.True(match.Success, "hydra did not report its login tries: " + run.StdOut + run.StdErr);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
