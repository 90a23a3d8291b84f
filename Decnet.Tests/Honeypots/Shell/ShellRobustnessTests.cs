using Decnet.Core.Honeypots.Shell;
using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Shell;

public sealed class ShellRobustnessTests
{
    [Theory]
    [InlineData(1234)]
    [InlineData(42)]
    [InlineData(7)]
    public void Random_command_lines_never_throw_and_output_stays_bounded(int seed)
    {
        var persona = PersonaFileSystem.Build("fuzz-01", "debian", ["root"], DateTimeOffset.UtcNow);
        var shell = new CommandInterpreter(new ShellContext
        {
            Hostname = "fuzz-01",
            User = "root",
            Distro = PersonaFileSystem.Distro("debian"),
            FileSystem = new ShellFileSystem(persona, TimeProvider.System),
            Emit = (_, _) => { },
        });
        var random = new Random(seed);
        string[] atoms = ["ls", "cat", "echo", "cd", "..", "/", "~", "|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1", "'", "\"", "$", "${", "}", "$?", "\\", "#",
            "grep", "head", "-n", "wc", "-l", "sudo", "rm", "-rf", "mkdir", "-p", "cp", "mv", "touch", "/tmp/a", "/etc/passwd", "wget", "http://x.example/a", "export", "A=1", " ", "\t", "exit"];
        for (var i = 0; i < 3000; i++)
        {
            var line = string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => atoms[random.Next(atoms.Length)] + (random.Next(3) == 0 ? "" : " ")));
            var result = shell.Execute(line);
            Assert.True(result.Output.Length <= 256 * 1024);
        }
    }

    [Fact]
    public void Yes_pipes_and_huge_files_cannot_grow_the_overlay_without_bound()
    {
        var persona = PersonaFileSystem.Build("fuzz-01", "debian", ["root"], DateTimeOffset.UtcNow);
        var fs = new ShellFileSystem(persona, TimeProvider.System, maxOverlayBytes: 10_000, maxOverlayEntries: 5);
        for (var i = 0; i < 10; i++)
        {
            fs.Write($"/tmp/f{i}", new byte[100]);
        }
        Assert.Equal(5, fs.List("/tmp").Count);
        Assert.False(fs.Write("/tmp/f0", new byte[20_000]));
    }

    [Theory]
    [InlineData("payload.sh", "payload.sh")]
    [InlineData("../../etc/passwd", "_.._etc_passwd")]
    [InlineData("...hidden", "hidden")]
    [InlineData("", "file")]
    [InlineData("a b;c$(d)", "a_b_c__d_")]
    public void Artifact_names_are_sanitised(string name, string expected) =>
        Assert.Equal(expected, SshArtifactStore.SanitiseName(name));

    [Theory]
    [InlineData("scp -t /tmp/", true)]
    [InlineData("scp -r -d -t -- /tmp", true)]
    [InlineData("/usr/bin/scp -pt .", true)]
    [InlineData("scp -f /etc/passwd", false)]
    [InlineData("echo scp -t", false)]
    public void Scp_sink_commands_are_recognised(string command, bool expected) =>
        Assert.Equal(expected, ScpSinkHandler.IsScpSink(command));

    [Theory]
    [InlineData("debian", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10")]
    [InlineData("ubuntu22", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10")]
    [InlineData("rocky9", "SSH-2.0-OpenSSH_8.7")]
    public void Default_banner_matches_the_decky_distro(string distro, string expected)
    {
        using var decky = new HoneypotTestContext(distro: distro);
        Assert.Equal(expected, SshPersona.From(decky.Context).Version);
    }

    [Fact]
    public void Persona_banner_and_hostname_override_the_defaults()
    {
        using var decky = new HoneypotTestContext(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["openssh_version"] = "OpenSSH_8.4p1 Debian-5+deb11u3\r\nX", ["hostname"] = "db-01;rm" });
        var persona = SshPersona.From(decky.Context);
        Assert.Equal("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3X", persona.Version);
        Assert.Equal("db-01rm", persona.Hostname);
    }

    [Fact]
    public void Persona_credentials_parse_users_and_root_password_with_admin_default()
    {
        Assert.Equal(new Dictionary<string, string> { ["root"] = "admin" }, SshPersona.ParseCredentials(null, null));
        Assert.Equal(new Dictionary<string, string> { ["root"] = "toor" }, SshPersona.ParseCredentials(null, "toor"));
        var parsed = SshPersona.ParseCredentials("pi:raspberry, admin:ad:min ,broken", "s3cret");
        Assert.Equal(new Dictionary<string, string> { ["pi"] = "raspberry", ["admin"] = "ad:min", ["root"] = "s3cret" }, parsed);
    }
}
