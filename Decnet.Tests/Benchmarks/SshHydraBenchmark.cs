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
            // 3 users x 1000 passwords = 3000 guesses against the decky, none of them right: long enough that
            // hydra's own start-up (about a second) is a small part of the wall time.
            var users = Path.Combine(work, "users.txt");
            await File.WriteAllLinesAsync(users, Users);
            var passwords = Enumerable.Range(0, 1000).Select(i => string.Create(CultureInfo.InvariantCulture, $"wrong-{i:0000}")).ToList();
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
            Run decky;
            await using (var host = await BenchmarkDecky.StartAsync(new SshServiceFactory(), sink, persona, new SessionLimits(), 22))
            {
                // The decky runs in this process: its CPU is this process's (the idle test harness included,
                // so the figure errs against the decky).
                decky = await MeasuredHydraAsync(host.EndPoint, users, wordlist, work, CpuClock.Self);
                // Events are published before the reply goes out, so by the time hydra exits they are all in.
                var attempts = sink.Events.Where(e => e.EventType == "auth_attempt" && e.Field("method") == "password").ToList();
                var pairs = attempts.Select(e => (e.Field("username"), e.Field("password"))).ToHashSet();
                report.Line($"decky {host.EndPoint}: hydra made {decky.Tries} login tries in {decky.Wall.TotalSeconds:0.00} s; captured {attempts.Count} auth_attempt events ({pairs.Count} distinct pairs)");
                Assert.Equal(Users.Length * passwords.Count, decky.Tries);
                Assert.Equal(decky.Tries, pairs.Count);
                Assert.Equal(decky.Tries, attempts.Count);
            }

            Run sshd;
            await using (var server = await OpenSshServer.StartAsync(TestDecky.NextAddress()))
            {
                sshd = await MeasuredHydraAsync(server.EndPoint, users, shortWordlist, work, () => server.Cpu);
                report.Line($"OpenSSH sshd {server.EndPoint} (UsePAM yes): hydra made {sshd.Tries} login tries in {sshd.Wall.TotalSeconds:0.00} s");
            }

            foreach (var (name, run) in new[] { ("decky", decky), ("sshd", sshd) })
            {
                report.Line(string.Create(CultureInfo.InvariantCulture,
                    $"against {name}: server CPU {run.ServerCpu.TotalSeconds:0.00} s ({run.ServerCpu.TotalMicroseconds / run.Tries:0} µs per try, {run.ServerCpu / run.Wall:0.00} cores); hydra CPU {run.HydraCpu.TotalSeconds:0.00} s ({run.HydraCpu.TotalMicroseconds / run.Tries:0} µs per try, {run.HydraCpu / run.Wall:0.00} cores) of {Environment.ProcessorCount} cores"));
            }
            report.Figure($"password attempts/s, hydra -t {Tasks}, failure delay off", decky.Rate, "attempts/s", "Debian OpenSSH 9.2 sshd + PAM, same hydra command", sshd.Rate);
            // The second reference: what one CPU-second of the server buys, whoever the client is. It does
            // not depend on hydra keeping up, nor on PAM's delay (a delayed guess costs sshd no CPU).
            report.Figure("password attempts per server CPU-second, same hydra runs", decky.Tries / decky.ServerCpu.TotalSeconds, "attempts/CPU-s",
                "Debian OpenSSH 9.2 sshd + PAM", sshd.Tries / sshd.ServerCpu.TotalSeconds);
            var hydraShare = decky.HydraCpu / (decky.HydraCpu + decky.ServerCpu);
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"bound: against the decky, hydra used {hydraShare:P0} of the CPU both spent; the machine was {(decky.HydraCpu + decky.ServerCpu) / decky.Wall / Environment.ProcessorCount:P0} busy with the two"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>One hydra run: its login tries, wall time, and the CPU hydra and the server spent in it.</summary>
    private sealed record Run(int Tries, TimeSpan Wall, TimeSpan HydraCpu, TimeSpan ServerCpu)
    {
        public double Rate => Tries / Wall.TotalSeconds;
    }

    private async Task<Run> MeasuredHydraAsync(IPEndPoint target, string users, string wordlist, string work, Func<TimeSpan> serverCpu)
    {
        var server = serverCpu();
        var hydra = CpuClock.ReapedChildren();
        var run = await HydraAsync(target, users, wordlist, work);
        var hydraCpu = CpuClock.ReapedChildren() - hydra;
        // sshd adds a connection's CPU when it reaps the connection's process, just after hydra hangs up.
        await Task.Delay(500);
        var measured = new Run(Tries(run), run.Elapsed, hydraCpu, serverCpu() - server);
        Assert.Contains("0 valid password", run.StdOut, StringComparison.Ordinal);
        return measured;
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
