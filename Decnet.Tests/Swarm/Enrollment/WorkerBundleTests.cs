using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The wizard's bundle, opened as the worker opens it: the agent build, certificates (key 0600), the
/// pinned decnet.ini, systemd units and the bootstrap script; never the master's tree or its secrets.
/// The agent build is a copy of the real Decnet.Agent output with the master's kind of files planted in it.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class WorkerBundleTests : IAsyncLifetime
{
    private readonly TempDirectory _build = new("decnet-agent-build");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync()
    {
        var real = AgentBuild.Locate(null);
        foreach (var file in Directory.EnumerateFiles(real))
        {
            File.Copy(file, Path.Combine(_build.Path, Path.GetFileName(file)));
        }
        // What must never travel to a worker, planted where a careless packer would pick it up.
        Plant("Decnet.Web.styles.css", "master css");
        Plant("Decnet.Web.staticwebassets.endpoints.json", "{}");
        Plant("wwwroot/app.css", "body{}");
        Plant("obj/Debug/Decnet.Agent.AssemblyInfo.cs", "// staging");
        Plant("decnet.db", "SQLite format 3");
        Plant("data/decnet.db-wal", "wal");
        Plant("ca.key", "-----BEGIN PRIVATE KEY-----");
        Plant("appsettings.json", "{\"Decnet\":{\"Users\":{\"AdminPassword\":\"hunter2hunter2\"}}}");
        Plant("appsettings.Production.json", "{\"Jwt\":{\"Secret\":\"s3cr3t\"}}");

        _bed = await CoreTestBed.StartAsync(new Dictionary<string, string?> { ["Decnet:Swarm:AgentBuildDirectory"] = _build.Path }, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _bed.DisposeAsync();
        _build.Dispose();
    }

    private EnrollmentService Enrollment => _bed.Services.GetRequiredService<EnrollmentService>();
    private EnrollmentBundleStore Store => _bed.Services.GetRequiredService<EnrollmentBundleStore>();

    private void Plant(string relative, string content)
    {
        var path = Path.Combine(_build.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public async Task The_bundle_holds_the_agent_build_certificates_pinned_ini_units_and_script()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "wifi-node", WithUpdater: true, UseIpvlan: true, "[ssh]\nport = 22\n"), new Uri("https://master.lab:8443"), CancellationToken.None);
        var entries = await ReadArchiveAsync(ticket.Token);

        Assert.Contains("release/Decnet.Agent.dll", entries.Keys);
        Assert.Contains("release/Decnet.Core.dll", entries.Keys);
        Assert.Contains("release/Decnet.Agent.runtimeconfig.json", entries.Keys);

        var key = entries["etc/decnet/agent/worker.key"];
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, key.Mode);
        using var worker = X509Certificate2.CreateFromPem(entries["etc/decnet/agent/worker.crt"].Text, key.Text);
        var credentials = _bed.Services.GetRequiredService<SwarmMasterCredentials>();
        Assert.True(credentials.Trust.HasIssued(worker, PeerUsage.Client));
        Assert.Equal(credentials.Authority.CertificatePem.Trim(), entries["etc/decnet/agent/ca.crt"].Text.Trim());
        var sans = worker.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().ToList();
        Assert.Contains("wifi-node", sans);
        Assert.Contains("master.lab", sans);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, entries["etc/decnet/updater/updater.key"].Mode);
        using var updater = X509Certificate2.CreateFromPem(entries["etc/decnet/updater/updater.crt"].Text);
        Assert.Equal("updater@wifi-node", updater.GetNameInfo(X509NameType.SimpleName, false));

        var ini = AgentHostSettings.Parse(entries["etc/decnet/decnet.ini"].Text);
        Assert.Equal(ticket.HostId, ini.HostUuid);
        Assert.Equal("wifi-node", ini.Name);
        Assert.Equal("master.lab", ini.MasterHost);
        Assert.Equal(credentials.MasterFingerprint, ini.MasterFingerprint);
        Assert.True(ini.Ipvlan);
        Assert.Equal(8770, ini.SwarmControllerPort);
        Assert.Equal("[ssh]\nport = 22\n", entries["etc/decnet/services.ini"].Text);

        foreach (var unit in new[] { "decnet-agent.service", "decnet-forwarder.service", "decnet-updater.service" })
        {
            var text = entries["etc/systemd/system/" + unit].Text;
            Assert.Contains("wifi-node", text);
            Assert.Contains("master.lab", text);
            Assert.Contains("ExecStart=/opt/decnet/current/Decnet.Agent ", text);
            Assert.DoesNotContain("{{", text);
        }
        var script = entries["bootstrap.sh"].Text;
        Assert.Contains($"https://master.lab:8443/api/v1/swarm/enroll-bundle/{ticket.Token}.tgz", script);
        Assert.Contains("systemctl enable --now", script);

        var host = await _bed.Services.GetRequiredService<SwarmOverview>().HostAsync(ticket.HostId, CancellationToken.None);
        Assert.Equal((SwarmHostStatus.Enrolled, "", true), (host!.Status, host.Address, host.UseIpvlan));
        Assert.Equal(CertificateFingerprint.Of(worker), host.ClientCertFingerprint);
        Assert.Equal(CertificateFingerprint.Of(updater), host.UpdaterCertFingerprint);
    }

    [Fact]
    public async Task The_bundle_never_contains_the_master_tree_staging_databases_or_secrets()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("10.0.0.1", "plain-node", false, false, null), new Uri("http://10.0.0.1:8080"), CancellationToken.None);
        var names = (await ReadArchiveAsync(ticket.Token)).Keys.ToList();

        Assert.DoesNotContain(names, n => Path.GetFileName(n).StartsWith("Decnet.Web", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains("wwwroot", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains("obj/", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains(".db", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => Path.GetFileName(n) == "ca.key");
        Assert.DoesNotContain(names, n => Path.GetFileName(n).StartsWith("appsettings", StringComparison.Ordinal));
        Assert.DoesNotContain("etc/decnet/updater/updater.key", names);
        Assert.DoesNotContain("etc/systemd/system/decnet-updater.service", names);
        Assert.DoesNotContain("etc/decnet/services.ini", names);
        // The CA key is nowhere, under any name.
        var caKey = File.ReadAllText(Path.Combine(_bed.Services.GetRequiredService<SwarmMasterCredentials>().Authority.Directory, "ca.key"));
        Assert.DoesNotContain((await ReadArchiveAsync(ticket.Token, reuse: true)).Values, e => e.Text.Contains(caKey.Trim(), StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_holding_the_master_is_refused_as_an_agent_build()
    {
        Plant("Decnet.Web.dll", "MZ");

        var refused = Assert.Throws<InvalidOperationException>(() => AgentBuild.Locate(_build.Path));

        Assert.Contains("Decnet.Web.dll", refused.Message);
    }

    [Fact]
    public async Task The_bootstrap_script_is_valid_bash_that_refuses_to_run_without_root()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "scripted", false, false, null), new Uri("http://master.lab"), CancellationToken.None);
        Assert.Equal(BundleTakeStatus.Served, Store.TryTake(ticket.Token, BundlePart.Script, out var content));
        string script;
        await using (content)
        {
            script = await new StreamReader(content!).ReadToEndAsync();
        }
        var path = Path.Combine(_build.Path, "bootstrap-check.sh");
        await File.WriteAllTextAsync(path, script);

        var syntax = await RunAsync("bash", "-n", path);
        Assert.Equal(0, syntax.ExitCode);
        // Run as an unprivileged user (never as root: it would install), it stops at the root check.
        var run = Environment.UserName == "root"
            ? await RunAsync("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", path)
            : await RunAsync("bash", path);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("run this as root", run.Error);
        Assert.Contains("http://master.lab/api/v1/swarm/enroll-bundle/" + ticket.Token + ".tgz", script);
        Assert.Contains("ln -sfn \"$INSTALL_DIR/releases/active\" \"$INSTALL_DIR/current\"", script);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Each_part_is_served_once_and_the_file_is_gone_afterwards()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "once", false, false, null), new Uri("http://master.lab"), CancellationToken.None);
        var archivePath = Store.PathOf(ticket.Token, BundlePart.Archive);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(archivePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Store.PathOf(ticket.Token, BundlePart.Script)));

        Assert.Equal(BundleTakeStatus.Served, Store.TryTake(ticket.Token, BundlePart.Archive, out var first));
        await first!.DisposeAsync();

        Assert.Equal(BundleTakeStatus.Gone, Store.TryTake(ticket.Token, BundlePart.Archive, out _));
        Assert.False(File.Exists(archivePath));
    }

    [Fact]
    public async Task An_unused_bundle_expires_after_five_minutes_and_the_sweeper_deletes_it()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "late", false, false, null), new Uri("http://master.lab"), CancellationToken.None);
        Assert.Equal(_time.GetUtcNow().AddMinutes(5), ticket.ExpiresAt);

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, Store.Sweep());
        Assert.True(File.Exists(Store.PathOf(ticket.Token, BundlePart.Script)));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, Store.Sweep());
        Assert.False(File.Exists(Store.PathOf(ticket.Token, BundlePart.Script)));
        Assert.False(File.Exists(Store.PathOf(ticket.Token, BundlePart.Archive)));
        Assert.Equal(BundleTakeStatus.Unknown, Store.TryTake(ticket.Token, BundlePart.Script, out _));
    }

    [Fact]
    public async Task A_taken_name_or_a_bad_host_is_refused_without_leaving_a_bundle()
    {
        await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "taken", false, false, null), new Uri("http://master.lab"), CancellationToken.None);
        var before = Directory.GetFiles(Store.Directory).Length;

        await Assert.ThrowsAsync<SwarmHostNameTakenException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "taken", false, false, null), new Uri("http://master.lab"), CancellationToken.None));
        await Assert.ThrowsAsync<EnrollmentRejectedException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab'; rm -rf /", "fresh", false, false, null), new Uri("http://master.lab"), CancellationToken.None));
        await Assert.ThrowsAsync<EnrollmentRejectedException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "../etc", false, false, null), new Uri("http://master.lab"), CancellationToken.None));

        Assert.Equal(before, Directory.GetFiles(Store.Directory).Length);
    }

    private readonly Dictionary<string, Dictionary<string, Entry>> _read = [];

    private async Task<Dictionary<string, Entry>> ReadArchiveAsync(string token, bool reuse = false)
    {
        if (reuse && _read.TryGetValue(token, out var cached))
        {
            return cached;
        }
        Assert.Equal(BundleTakeStatus.Served, Store.TryTake(token, BundlePart.Archive, out var content));
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        await using (content)
        {
            await using var gzip = new GZipStream(content!, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync(copyData: true) is { } entry)
            {
                var text = "";
                if (entry.DataStream is { } data && !entry.Name.StartsWith("release/", StringComparison.Ordinal))
                {
                    text = await new StreamReader(data, Encoding.UTF8).ReadToEndAsync();
                }
                entries[entry.Name] = new Entry(entry.Mode, text);
            }
        }
        _read[token] = entries;
        return entries;
    }

    private static async Task<(int ExitCode, string Error)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, error);
    }

    private sealed record Entry(UnixFileMode Mode, string Text);
}
