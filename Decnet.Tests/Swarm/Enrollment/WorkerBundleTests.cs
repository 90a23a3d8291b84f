using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The wizard's bundle, opened as the worker opens it: the agent build, certificates (key 0600), the
/// pinned decnet.ini and systemd units, and beside it the bootstrap script carrying the archive's hash;
/// never the master's tree or its secrets. Tokens last until the first heartbeat or their expiry.
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
    public async Task The_bundle_holds_the_agent_build_certificates_pinned_ini_and_units_and_the_script_checks_it()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "wifi-node", WithUpdater: true, UseIpvlan: true, "[ssh]\nport = 22\n", "10.9.8.7"), CancellationToken.None);
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
        // The worker's certificate names the worker (its name and the address given), never the master.
        var san = worker.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["wifi-node"], san.EnumerateDnsNames().ToList());
        Assert.Equal([System.Net.IPAddress.Parse("10.9.8.7")], san.EnumerateIPAddresses().ToList());
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
        // The script travels beside the archive, not in it, and carries the archive's hash and the pin.
        Assert.DoesNotContain("bootstrap.sh", entries.Keys);
        var script = await ReadScriptAsync(ticket.Token);
        Assert.Contains($"BUNDLE_URL='https://master.lab:8771/enroll/{ticket.Token}.tgz'", script);
        Assert.Contains($"ARCHIVE_SHA256='{Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Store.PathOf(EnrollmentBundleStore.Hash(ticket.Token), BundlePart.Archive))))}'", script);
        Assert.Contains($"PUBLIC_KEY_PIN='{credentials.MasterPublicKeyPin}'", script);
        Assert.Contains("WITH_UPDATER='yes'", script);
        Assert.DoesNotContain("{{", script);
        Assert.Equal($"curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//{credentials.MasterPublicKeyPin}' 'https://master.lab:8771/enroll/{ticket.Token}.sh' | sudo bash", ticket.Command);

        var host = await _bed.Services.GetRequiredService<SwarmOverview>().HostAsync(ticket.HostId, CancellationToken.None);
        Assert.Equal((SwarmHostStatus.Enrolled, "", true), (host!.Status, host.Address, host.UseIpvlan));
        Assert.Equal(CertificateFingerprint.Of(worker), host.ClientCertFingerprint);
        Assert.Equal(CertificateFingerprint.Of(updater), host.UpdaterCertFingerprint);
        Assert.Equal(["bundle download (HTTPS, during the install)", "heartbeats (mutual TLS)", "log shipping (RFC 5425, mutual TLS)"], ticket.Reach.Select(r => r.Purpose));
        Assert.Equal([8771, 8770, 6514], ticket.Reach.Select(r => r.Port));
        Assert.All(ticket.Reach, r => Assert.Equal("master.lab", r.Host));
        Assert.Empty(ticket.Warnings);
    }

    [Fact]
    public async Task The_bundle_never_contains_the_master_tree_staging_databases_or_secrets()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("10.0.0.1", "plain-node", false, false, null), CancellationToken.None);
        var entries = await ReadArchiveAsync(ticket.Token);
        var names = entries.Keys.ToList();

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
        Assert.DoesNotContain(entries.Values, e => e.Text.Contains(caKey.Trim(), StringComparison.Ordinal));
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
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "scripted", false, false, null), CancellationToken.None);
        var script = await ReadScriptAsync(ticket.Token);
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
        // Bad options are refused before anything else, with what is allowed.
        var badPrefix = await RunAsync("bash", path, "--prefix", "relative/dir");
        Assert.Equal(2, badPrefix.ExitCode);
        Assert.Contains("--prefix must be an absolute path", badPrefix.Error);
        var unknown = await RunAsync("bash", path, "--frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown option '--frobnicate'", unknown.Error);
        Assert.Contains("ln -sfn \"$INSTALL_DIR/releases/active\" \"$INSTALL_DIR/current\"", script);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_failed_install_downloads_again_until_the_first_heartbeat_uses_the_token()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "retry", false, false, null), CancellationToken.None);
        var hash = EnrollmentBundleStore.Hash(ticket.Token);
        var archivePath = Store.PathOf(hash, BundlePart.Archive);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(archivePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Store.PathOf(hash, BundlePart.Script)));
        // Files are named by the token's hash: the bundle folder does not give the URL away.
        Assert.DoesNotContain(Directory.GetFiles(Store.Directory), f => f.Contains(ticket.Token, StringComparison.Ordinal));

        // The first attempt broke off half way; the second one gets the same bytes.
        var (status, first) = await Store.TakeAsync(ticket.Token, BundlePart.Archive, CancellationToken.None);
        Assert.Equal(BundleTakeStatus.Served, status);
        var head = new byte[512];
        await first!.ReadExactlyAsync(head);
        await first.DisposeAsync();
        Assert.Equal(await File.ReadAllBytesAsync(archivePath), await ReadAllAsync(ticket.Token, BundlePart.Archive));
        Assert.Equal(BundleTakeStatus.Served, (await Store.TakeAsync(ticket.Token, BundlePart.Script, CancellationToken.None)).Status);
        Assert.Equal(1, await Store.PendingCountAsync(CancellationToken.None));

        // The worker's first heartbeat: the token is used up and its files go.
        var heartbeat = await _bed.Services.GetRequiredService<SwarmHeartbeats>().AcceptAsync(
            (await _bed.Services.GetRequiredService<SwarmOverview>().HostAsync(ticket.HostId, CancellationToken.None))!.ClientCertFingerprint,
            new HeartbeatRequest(ticket.HostId, "test", new AgentStatus(false, "embedded", [])), "10.0.0.9", CancellationToken.None);
        Assert.Equal(HeartbeatVerdictKind.Accepted, heartbeat.Kind);
        Assert.Equal(BundleTakeStatus.Unknown, (await Store.TakeAsync(ticket.Token, BundlePart.Archive, CancellationToken.None)).Status);
        Assert.False(File.Exists(archivePath));
        Assert.Equal(0, await Store.PendingCountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Each_part_downloads_at_most_the_configured_number_of_times()
    {
        await using var bed = await CoreTestBed.StartAsync(new Dictionary<string, string?>
        {
            ["Decnet:Swarm:AgentBuildDirectory"] = _build.Path,
            ["Decnet:Swarm:BundleDownloadsPerToken"] = "2",
        }, _time);
        var ticket = await bed.Services.GetRequiredService<EnrollmentService>().CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "limited", false, false, null), CancellationToken.None);
        var store = bed.Services.GetRequiredService<EnrollmentBundleStore>();

        var statuses = new List<BundleTakeStatus>();
        for (var i = 0; i < 3; i++)
        {
            var (status, content) = await store.TakeAsync(ticket.Token, BundlePart.Script, CancellationToken.None);
            statuses.Add(status);
            content?.Dispose();
        }

        Assert.Equal([BundleTakeStatus.Served, BundleTakeStatus.Served, BundleTakeStatus.Gone], statuses);
        Assert.Equal(BundleTakeStatus.Served, (await store.TakeAsync(ticket.Token, BundlePart.Archive, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task The_database_keeps_only_the_hash_of_a_token()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "hashed", false, false, null), CancellationToken.None);

        await using var db = await _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        var row = await db.EnrollmentTokens.SingleAsync();
        Assert.Equal(EnrollmentBundleStore.Hash(ticket.Token), row.TokenHash);
        Assert.Equal((ticket.HostId, "hashed"), (row.HostId, row.HostName));
        await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_bed.DataDirectory, "decnet.db"));
        Assert.DoesNotContain(ticket.Token, Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_enrollment_that_expires_without_a_first_heartbeat_is_swept_and_its_certificate_revoked()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "late", false, false, null), CancellationToken.None);
        var connected = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "early", false, false, null), CancellationToken.None);
        var overview = _bed.Services.GetRequiredService<SwarmOverview>();
        var lateFingerprint = (await overview.HostAsync(ticket.HostId, CancellationToken.None))!.ClientCertFingerprint;
        Assert.Equal(_time.GetUtcNow().AddMinutes(5), ticket.ExpiresAt);
        // "early" heartbeats once, but its install keeps the bundle around (say the token survived): it stays.
        await _bed.Services.GetRequiredService<SwarmStore>().RecordHeartbeatAsync(connected.HostId, new AgentStatus(false, "embedded", []), "10.0.0.3", CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await Store.SweepAsync(CancellationToken.None));
        Assert.True(File.Exists(Store.PathOf(EnrollmentBundleStore.Hash(ticket.Token), BundlePart.Script)));
        Assert.NotNull(await overview.HostAsync(ticket.HostId, CancellationToken.None));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, await Store.SweepAsync(CancellationToken.None));
        Assert.False(File.Exists(Store.PathOf(EnrollmentBundleStore.Hash(ticket.Token), BundlePart.Script)));
        Assert.False(File.Exists(Store.PathOf(EnrollmentBundleStore.Hash(ticket.Token), BundlePart.Archive)));
        Assert.Equal(BundleTakeStatus.Unknown, (await Store.TakeAsync(ticket.Token, BundlePart.Script, CancellationToken.None)).Status);
        Assert.Null(await overview.HostAsync(ticket.HostId, CancellationToken.None));
        Assert.True(await overview.IsRevokedAsync(lateFingerprint, CancellationToken.None));
        Assert.NotNull(await overview.HostAsync(connected.HostId, CancellationToken.None));
    }

    [Fact]
    public async Task A_name_that_never_connected_can_be_enrolled_again_and_its_first_certificate_is_revoked()
    {
        var first = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "again", false, false, null), CancellationToken.None);
        var overview = _bed.Services.GetRequiredService<SwarmOverview>();
        var firstFingerprint = (await overview.HostAsync(first.HostId, CancellationToken.None))!.ClientCertFingerprint;

        var second = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "again", false, false, null), CancellationToken.None);

        Assert.NotEqual(first.HostId, second.HostId);
        Assert.Null(await overview.HostAsync(first.HostId, CancellationToken.None));
        Assert.True(await overview.IsRevokedAsync(firstFingerprint, CancellationToken.None));
        Assert.Equal(BundleTakeStatus.Unknown, (await Store.TakeAsync(first.Token, BundlePart.Script, CancellationToken.None)).Status);
        Assert.Equal(BundleTakeStatus.Served, (await Store.TakeAsync(second.Token, BundlePart.Script, CancellationToken.None)).Status);
        Assert.Equal(1, await Store.PendingCountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_connected_name_or_a_bad_host_is_refused_without_leaving_a_bundle()
    {
        var taken = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "taken", false, false, null), CancellationToken.None);
        await _bed.Services.GetRequiredService<SwarmStore>().RecordHeartbeatAsync(taken.HostId, new AgentStatus(false, "embedded", []), "10.0.0.4", CancellationToken.None);
        var before = Directory.GetFiles(Store.Directory).Length;

        await Assert.ThrowsAsync<SwarmHostNameTakenException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "taken", false, false, null), CancellationToken.None));
        await Assert.ThrowsAsync<EnrollmentRejectedException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab'; rm -rf /", "fresh", false, false, null), CancellationToken.None));
        await Assert.ThrowsAsync<EnrollmentRejectedException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "../etc", false, false, null), CancellationToken.None));
        var badAddress = await Assert.ThrowsAsync<EnrollmentRejectedException>(() => Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("master.lab", "fresh", false, false, null, "10.0.0.5/24"), CancellationToken.None));
        Assert.Contains("Agent address", badAddress.Message);

        Assert.Equal(before, Directory.GetFiles(Store.Directory).Length);
        Assert.False(await _bed.Services.GetRequiredService<SwarmOverview>().NameExistsAsync("fresh", CancellationToken.None));
    }

    [Fact]
    public async Task A_loopback_master_host_is_warned_about()
    {
        var ticket = await Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("127.0.0.1", "local-node", false, false, null), CancellationToken.None);

        var warning = Assert.Single(ticket.Warnings);
        Assert.Contains("127.0.0.1 is a loopback address", warning);
    }

    private async Task<string> ReadScriptAsync(string token) => Encoding.UTF8.GetString(await ReadAllAsync(token, BundlePart.Script));

    private async Task<byte[]> ReadAllAsync(string token, BundlePart part)
    {
        var (status, content) = await Store.TakeAsync(token, part, CancellationToken.None);
        Assert.Equal(BundleTakeStatus.Served, status);
        await using (content)
        {
            using var copy = new MemoryStream();
            await content!.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    private async Task<Dictionary<string, Entry>> ReadArchiveAsync(string token)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        await using var gzip = new GZipStream(new MemoryStream(await ReadAllAsync(token, BundlePart.Archive)), CompressionMode.Decompress);
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
