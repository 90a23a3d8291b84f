using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Swarm.Updates;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Dispatch;

namespace Decnet.Tests.Swarm.Updates;

/// <summary>
/// The whole remote update: the master's API ships the real worker build to a real updater process over
/// mutual TLS, which rotates the releases, restarts the real agent from current/ and probes it; a release
/// whose agent cannot start is rolled back on its own; an explicit rollback swaps the slots again.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RemoteUpdateFlowTests
{
    [Fact]
    public async Task A_pushed_release_rotates_the_slots_repoints_current_and_the_agent_answers_again_and_rollback_swaps_back()
    {
        await using var sandbox = new UpdaterSandbox();
        await sandbox.StartAsync();
        await using var master = new DecnetWebFactory(MasterSettings(sandbox));
        using var admin = master.CreateClient((await master.CreateActiveUserAsync("chief", UserRole.Admin)).Token);
        await SwarmBed.AddHostAsync(master.Services, sandbox.Host());
        var firstRelease = Path.Combine(sandbox.Releases, "active");
        var firstAgentDll = File.ReadAllBytes(Path.Combine(firstRelease, "Decnet.Agent.dll"));

        using var push = await admin.PostAsJsonAsync("/api/v1/swarm-updates/push", new { host_uuids = new[] { sandbox.HostUuid } });

        var body = await JsonAsync(push);
        var result = Assert.Single(body.GetProperty("results").EnumerateArray());
        Assert.True(result.GetProperty("status").GetString() == "updated", $"{body}\n{sandbox.Output}");
        Assert.Equal(200, result.GetProperty("http_status").GetInt32());
        var sha = body.GetProperty("sha").GetString();
        Assert.Equal(sha, sandbox.ManifestSha("active"));
        Assert.Null(sandbox.ManifestSha("prev"));
        Assert.True(Directory.Exists(Path.Combine(sandbox.Releases, "prev")), "the first release was kept as prev");
        Assert.Equal(Path.Combine(sandbox.Releases, "active"), sandbox.CurrentTarget);
        Assert.Equal(firstAgentDll, File.ReadAllBytes(Path.Combine(sandbox.Releases, "prev", "Decnet.Agent.dll")));
        Assert.False(Directory.Exists(Path.Combine(sandbox.Releases, "active.new")));
        await sandbox.WaitForAgentAsync();

        // The fleet view reads the slots from the updater.
        var hosts = await JsonAsync(await admin.GetAsync("/api/v1/swarm-updates/hosts"));
        var listed = Assert.Single(hosts.GetProperty("hosts").EnumerateArray());
        Assert.True(listed.GetProperty("reachable").GetBoolean());
        Assert.Equal(sha, listed.GetProperty("current_sha").GetString());

        using var rollback = await admin.PostAsJsonAsync("/api/v1/swarm-updates/rollback", new { host_uuid = sandbox.HostUuid });

        var rolled = await JsonAsync(rollback);
        Assert.True(rolled.GetProperty("status").GetString() == "rolled-back", $"{rolled}\n{sandbox.Output}");
        Assert.Null(sandbox.ManifestSha("active"));
        Assert.Equal(sha, sandbox.ManifestSha("prev"));
        Assert.Equal(Path.Combine(sandbox.Releases, "active"), sandbox.CurrentTarget);
        await sandbox.WaitForAgentAsync();
    }

    [Fact]
    public async Task A_release_whose_agent_cannot_start_is_rolled_back_with_409_and_the_agent_is_healthy_on_the_previous_release()
    {
        await using var sandbox = new UpdaterSandbox();
        await sandbox.StartAsync();
        using var good = await sandbox.ReleaseAsync();
        using var updater = sandbox.UpdaterClient();
        var installed = await updater.UpdateAsync(good, self: false, TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.True(installed.Status == HttpStatusCode.OK, $"{installed.Detail}\n{sandbox.Output}");
        using var broken = await sandbox.ReleaseAsync(new Dictionary<string, byte[]> { ["Decnet.Agent.dll"] = "not an assembly"u8.ToArray() });

        var answer = await updater.UpdateAsync(broken, self: false, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.True(answer.Status == HttpStatusCode.Conflict, $"{(int)answer.Status} {answer.Detail}\n{sandbox.Output}");
        Assert.True(answer.RolledBack);
        Assert.Equal(good.Sha, sandbox.ManifestSha("active"));
        Assert.Equal(broken.Sha, sandbox.ManifestSha("prev"));
        Assert.Equal(Path.Combine(sandbox.Releases, "active"), sandbox.CurrentTarget);
        await sandbox.WaitForAgentAsync();
        var health = await updater.HealthAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(good.Sha, health.Releases.Single(r => r.Slot == "active").Sha);
    }

    [Fact]
    public async Task Push_including_self_updates_the_agent_then_the_updater_restarts_itself_into_the_new_release()
    {
        await using var sandbox = new UpdaterSandbox();
        await sandbox.StartAsync();
        await using var master = new DecnetWebFactory(MasterSettings(sandbox));
        using var admin = master.CreateClient((await master.CreateActiveUserAsync("chief", UserRole.Admin)).Token);
        await SwarmBed.AddHostAsync(master.Services, sandbox.Host());
        var firstUpdaterPid = sandbox.FirstUpdater!.Id;

        using var push = await admin.PostAsJsonAsync("/api/v1/swarm-updates/push", new { all = true, include_self = true });

        var body = await JsonAsync(push);
        var result = Assert.Single(body.GetProperty("results").EnumerateArray());
        Assert.True(result.GetProperty("status").GetString() == "self-updated", $"{body}\n{sandbox.Output}");
        var sha = body.GetProperty("sha").GetString();
        // The agent update rotated once; the self-update found the release already active and did not rotate again.
        Assert.Equal(sha, sandbox.ManifestSha("active"));
        Assert.True(Directory.Exists(Path.Combine(sandbox.Releases, "prev")));
        Assert.Null(sandbox.ManifestSha("prev"));
        // Polled: WaitForExit would also wait for the end of its output, which the successor inherited.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!sandbox.FirstUpdater.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.True(sandbox.FirstUpdater.HasExited, $"the first updater did not hand over:\n{sandbox.Output}");
        await sandbox.WaitForUpdaterAsync();
        Assert.NotEqual(firstUpdaterPid, UpdaterSandbox.RecordedPid(Path.Combine(sandbox.InstallDirectory, "updater.pid")));
        using var updater = sandbox.UpdaterClient();
        Assert.Equal(sha, (await updater.HealthAsync(TimeSpan.FromSeconds(30), CancellationToken.None)).Releases.Single(r => r.Slot == "active").Sha);
        await sandbox.WaitForAgentAsync();
    }

    private static Dictionary<string, string?> MasterSettings(UpdaterSandbox sandbox)
    {
        var settings = SwarmBed.Settings(sandbox.CaDirectory);
        settings["Decnet:Swarm:Updates:UpdaterPort"] = sandbox.UpdaterPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
