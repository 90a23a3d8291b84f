using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Controller;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The API face of the wizard on the whole master (real Kestrel): an admin gets the pinned one-liner; the
/// worker side is the real curl, which downloads script and bundle over HTTPS from the enrollment
/// endpoint only, refuses any other server key, and can retry; the token survives a master restart; the
/// script refuses an archive whose hash differs; nobody can hammer the capability URLs.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class EnrollmentBundleApiTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("decnet-enroll-api");
    private SwarmMaster _master = null!;
    private HttpClient _admin = null!;
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _master = await StartMasterAsync();
        (_admin, _viewer) = await ClientsAsync(_master);
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        _viewer.Dispose();
        await _master.DisposeAsync();
        _data.Dispose();
    }

    private Task<SwarmMaster> StartMasterAsync() => SwarmMaster.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Decnet:Storage:DataDirectory"] = _data.Path,
        ["Decnet:Swarm:BundleDownloadsPerMinute"] = "8",
    });

    private static async Task<(HttpClient Admin, HttpClient Viewer)> ClientsAsync(SwarmMaster master) =>
        (await master.SignedInClientAsync("enroller", UserRole.Admin), await master.SignedInClientAsync("watcher", UserRole.Viewer));

    [Fact]
    public async Task The_printed_command_downloads_over_pinned_https_and_the_archive_matches_the_announced_hash()
    {
        using var created = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "127.0.0.1", agent_name = "branch-1", use_ipvlan = true, agent_address = "10.20.0.7" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var command = body.GetProperty("command").GetString()!;
        var scriptUrl = new Uri(body.GetProperty("script_url").GetString()!);
        var pin = body.GetProperty("public_key_pin").GetString()!;
        Assert.Equal(_master.Credentials.MasterPublicKeyPin, pin);
        Assert.Equal($"curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//{pin}' '{scriptUrl.AbsoluteUri}' | sudo bash", command);
        Assert.Equal(("https", "127.0.0.1", _master.EnrollmentUri.Port), (scriptUrl.Scheme, scriptUrl.Host, scriptUrl.Port));
        Assert.Matches("^/enroll/[A-Za-z0-9_-]{32}\\.sh$", scriptUrl.AbsolutePath);
        var expiresIn = body.GetProperty("expires_at").GetDateTimeOffset() - DateTimeOffset.UtcNow;
        Assert.InRange(expiresIn, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        var host = await _master.Overview.HostAsync(body.GetProperty("host_uuid").GetGuid(), CancellationToken.None);
        Assert.Equal(("branch-1", SwarmHostStatus.Enrolled, true), (host!.Name, host.Status, host.UseIpvlan));
        // Where the worker must connect, as bound, and why that will not work from another machine here.
        var reach = body.GetProperty("reach").EnumerateArray().Select(r => r.GetProperty("port").GetInt32()).ToList();
        Assert.Equal([_master.EnrollmentUri.Port, _master.ControllerUri.Port], reach[..2]);
        var warnings = body.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.StartsWith("The dashboard listens only on loopback", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("127.0.0.1 is a loopback address", StringComparison.Ordinal));

        // The command's own curl, as printed (without the pipe): the script arrives.
        var curl = command[..command.IndexOf(" | sudo bash", StringComparison.Ordinal)];
        var (exit, script) = await Clients.RunAsync("bash", ["-c", curl + " --max-time 30"]);
        Assert.True(exit == 0, script);
        Assert.StartsWith("#!/usr/bin/env bash", script);
        var archiveUrl = Regex.Match(script, "BUNDLE_URL='([^']+)'").Groups[1].Value;
        Assert.Equal(body.GetProperty("archive_url").GetString(), archiveUrl);
        var announced = Regex.Match(script, "ARCHIVE_SHA256='([0-9a-f]{64})'").Groups[1].Value;

        // The archive, pinned the same way, twice (a retried install), byte for byte what was announced.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var file = Path.Combine(_data.Path, $"bundle-{attempt}.tgz");
            var (got, output) = await Clients.RunAsync("curl", ["-fsS", "--proto", "=https", "--insecure", "--pinnedpubkey", $"sha256//{pin}", "-o", file, "--max-time", "60", archiveUrl], TimeSpan.FromSeconds(90));
            Assert.True(got == 0, output);
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.True(bytes.Length > 1_000_000, $"the bundle is only {bytes.Length} bytes: the agent build is missing");
            Assert.Equal(announced, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public async Task Curl_refuses_a_server_whose_key_is_not_the_pinned_one()
    {
        var ticket = await _master.Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("127.0.0.1", "pinned", false, false, null), CancellationToken.None);
        var otherKey = Convert.ToBase64String(SHA256.HashData("not the master's key"u8));

        var (exit, output) = await Clients.RunAsync("curl", ["-fsS", "--proto", "=https", "--insecure", "--pinnedpubkey", $"sha256//{otherKey}", "--max-time", "20", ticket.ScriptUrl.AbsoluteUri]);

        // 90: CURLE_SSL_PINNEDPUBKEYNOTMATCH. Nothing was downloaded, so the token still has all its tries.
        Assert.True(exit == 90, $"curl exited {exit}: {output}");
        using var client = _master.EnrollmentClient();
        using var script = await client.GetAsync(ticket.ScriptUrl.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Fact]
    public async Task Downloads_exist_only_on_the_enrollment_endpoint_and_the_dashboard_api_never_there()
    {
        var ticket = await _master.Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("127.0.0.1", "split", false, false, null), CancellationToken.None);
        using var dashboard = new HttpClient { BaseAddress = _master.DashboardUri };
        using var enrollment = _master.EnrollmentClient();

        using var overPlainHttp = await dashboard.GetAsync(ticket.ScriptUrl.AbsolutePath);
        using var oldRoute = await dashboard.GetAsync($"{EnrollmentService.BundleRoute}/{ticket.Token}.sh");
        using var apiOnEnrollment = await enrollment.GetAsync("/api/v1/health");
        using var loginOnEnrollment = await enrollment.GetAsync("/account/login");
        using var served = await enrollment.GetAsync(ticket.ScriptUrl.AbsolutePath);

        // The dashboard answers such paths with its own pages (or a 404), never with the script.
        foreach (var response in new[] { overPlainHttp, oldRoute })
        {
            Assert.NotEqual("text/x-shellscript", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("#!/usr/bin/env bash", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.NotFound, apiOnEnrollment.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, loginOnEnrollment.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("text/x-shellscript", served.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_pending_enrollment_survives_a_master_restart()
    {
        var ticket = await _master.Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("127.0.0.1", "patient", false, false, null), CancellationToken.None);
        var pin = _master.Credentials.MasterPublicKeyPin;

        await _master.DisposeAsync();
        _master = await StartMasterAsync();

        // Same CA and key (the pin holds), same token; only the test's port 0 moved.
        Assert.Equal(pin, _master.Credentials.MasterPublicKeyPin);
        var url = new Uri(_master.EnrollmentUri, ticket.ScriptUrl.AbsolutePath).AbsoluteUri;
        var (exit, script) = await Clients.RunAsync("curl", ["-fsS", "--proto", "=https", "--insecure", "--pinnedpubkey", $"sha256//{pin}", "--max-time", "20", url]);
        Assert.True(exit == 0, script);
        Assert.Contains("AGENT_NAME='patient'", script);
        Assert.Equal(1, await _master.Services.GetRequiredService<EnrollmentBundleStore>().PendingCountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_script_refuses_an_archive_whose_hash_is_not_the_announced_one()
    {
        Assert.True(Environment.IsPrivilegedProcess, "the bootstrap script only runs as root (the suite runs as root)");
        var ticket = await _master.Enrollment.CreateBundleAsync(new BundleEnrollmentRequest("127.0.0.1", "tampered", false, false, null), CancellationToken.None);
        using var client = _master.EnrollmentClient();
        var script = await client.GetStringAsync(ticket.ScriptUrl.AbsolutePath);
        var scriptPath = Path.Combine(_data.Path, "bootstrap.sh");
        await File.WriteAllTextAsync(scriptPath, script);
        // Someone swapped the archive between the announcement and the download.
        var store = _master.Services.GetRequiredService<EnrollmentBundleStore>();
        await using (var archive = new FileStream(store.PathOf(EnrollmentBundleStore.Hash(ticket.Token), BundlePart.Archive), FileMode.Open, FileAccess.Write))
        {
            archive.Seek(-64, SeekOrigin.End);
            await archive.WriteAsync(new byte[64]);
        }
        var prefix = Path.Combine(_data.Path, "worker-root");

        var (exit, output) = await Clients.RunAsync("bash", [scriptPath, "--prefix", prefix], TimeSpan.FromSeconds(120));

        Assert.NotEqual(0, exit);
        Assert.Contains("not unpacking it", output);
        Assert.False(Directory.Exists(Path.Combine(prefix, "opt", "decnet")), "the script installed from a tampered archive");
        Assert.False(Directory.Exists(Path.Combine(prefix, "etc", "decnet")));
    }

    [Fact]
    public async Task Viewers_cannot_enroll_connected_names_are_a_409_and_bad_input_a_400()
    {
        using var refused = await _viewer.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "viewer-node" });
        using var first = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "dup-node" });
        var firstHost = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("host_uuid").GetGuid();
        // Not connected yet: enrolling the name again replaces the first attempt.
        using var again = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "dup-node" });
        var againHost = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("host_uuid").GetGuid();
        await _master.Store.RecordHeartbeatAsync(againHost, new Decnet.Core.Swarm.Protocol.AgentStatus(false, "embedded", []), "10.20.0.9", CancellationToken.None);
        using var taken = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "dup-node" });
        using var invalid = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "bad name!" });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Null(await _master.Overview.HostAsync(firstHost, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("Agent name", await invalid.Content.ReadAsStringAsync());
        Assert.False(await _master.Overview.NameExistsAsync("viewer-node", CancellationToken.None));
    }

    [Fact]
    public async Task Guessing_tokens_is_rate_limited_per_address()
    {
        using var anonymous = _master.EnrollmentClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await anonymous.GetAsync($"/enroll/{new string('A', 31)}{i}.sh");
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses[..8], s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[9]);
    }
}
