using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using Decnet.Core.Swarm.Updates;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Controller;

namespace Decnet.Tests.Swarm.Updates;

/// <summary>One running updater whose tree never changes: who may talk to it, what it refuses, and the master's check of its name.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class UpdaterGuardTests(UpdaterGuardTests.Worker worker) : IClassFixture<UpdaterGuardTests.Worker>
{
    public sealed class Worker : IAsyncLifetime
    {
        public UpdaterSandbox Sandbox { get; } = new();

        public ValueTask InitializeAsync() => new(Sandbox.StartAsync());

        public ValueTask DisposeAsync() => Sandbox.DisposeAsync();
    }

    private UpdaterSandbox Sandbox => worker.Sandbox;

    [Fact]
    public async Task The_master_identity_reads_health_with_the_release_slots()
    {
        using var master = Sandbox.MasterClient();

        using var response = await master.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("updater", health.GetProperty("role").GetString());
        Assert.Equal("active", health.GetProperty("releases")[0].GetProperty("slot").GetString());
    }

    public static TheoryData<string> RefusedIdentities => ["worker", "other-updater", "self-signed", "none"];

    [Theory]
    [MemberData(nameof(RefusedIdentities))]
    public async Task Any_identity_but_the_master_is_refused(string identity)
    {
        var certificate = identity switch
        {
            "worker" => Sandbox.Certificate(Sandbox.Worker),
            "other-updater" => Sandbox.Certificate(Sandbox.Ca.IssueUpdater("worker-b")),
            "self-signed" => SwarmMaster.SelfSignedClientCertificate("decnet-master"),
            _ => null,
        };
        using var client = Sandbox.ClientWith(certificate);

        var refused = false;
        try
        {
            using var response = await client.PostAsync("rollback", null);
            refused = response.StatusCode == HttpStatusCode.Forbidden;
        }
        catch (HttpRequestException)
        {
            refused = true;
        }

        Assert.True(refused, $"{identity} was let in");
        Assert.True(Directory.Exists(Path.Combine(Sandbox.Releases, "active")));
    }

    [Fact]
    public async Task The_master_refuses_an_updater_whose_name_is_not_updater_at_the_host_even_when_the_pin_matches()
    {
        // The row says worker-z, pinned to worker-a's updater certificate (CN updater@worker-a).
        using var misnamed = Sandbox.UpdaterClient("worker-z");
        using var named = Sandbox.UpdaterClient();

        var refusal = await Assert.ThrowsAsync<UpdaterCallException>(() => misnamed.HealthAsync(TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Contains("updater@worker-z", refusal.Message, StringComparison.Ordinal);
        Assert.Equal("updater", (await named.HealthAsync(TimeSpan.FromSeconds(30), CancellationToken.None)).Role);
    }

    [Fact]
    public async Task Rollback_without_a_previous_release_is_404()
    {
        using var updater = Sandbox.UpdaterClient();

        var answer = await updater.RollbackAsync(TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.False(Directory.Exists(Path.Combine(Sandbox.Releases, "prev")));
    }

    [Theory]
    [InlineData("../x", "'..'")]
    [InlineData("bin/../../escape", "'..'")]
    [InlineData("/etc/cron.d/evil", "absolute")]
    [InlineData("link", "SymbolicLink")]
    [InlineData("fifo", "Fifo")]
    public async Task A_tarball_with_an_unsafe_entry_is_400_naming_it_and_the_tree_is_unchanged(string entry, string reason)
    {
        var before = Sandbox.TreeSnapshot();
        using var release = await UnsafeReleaseAsync(entry);
        using var updater = Sandbox.UpdaterClient();

        var answer = await updater.UpdateAsync(release, self: false, TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(entry, answer.Detail, StringComparison.Ordinal);
        Assert.Contains(reason, answer.Detail, StringComparison.Ordinal);
        Assert.Equal(before, Sandbox.TreeSnapshot());
    }

    [Fact]
    public async Task A_release_whose_content_does_not_match_its_sha_is_400_and_the_tree_is_unchanged()
    {
        var before = Sandbox.TreeSnapshot();
        using var real = await Sandbox.ReleaseAsync(new Dictionary<string, byte[]> { ["extra.txt"] = "x"u8.ToArray() });
        using var lying = real with { Sha = new string('a', 64) };
        using var updater = Sandbox.UpdaterClient();

        var answer = await updater.UpdateAsync(lying, self: false, TimeSpan.FromMinutes(2), CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("not the announced", answer.Detail, StringComparison.Ordinal);
        Assert.Equal(before, Sandbox.TreeSnapshot());
    }

    [Fact]
    public async Task Update_self_without_confirm_self_is_400()
    {
        using var release = await UnsafeReleaseAsync("../x");
        using var master = Sandbox.MasterClient();
        using var form = new MultipartFormDataContent
        {
            { new StreamContent(File.OpenRead(release.TarballPath)), "tarball", "release.tar.gz" },
            { new StringContent(release.Sha), "sha" },
        };

        using var response = await master.PostAsync("update-self", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("confirm_self", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A small gzip'd tar holding one harmless file and <paramref name="entry"/>.</summary>
    private async Task<ReleasePackage> UnsafeReleaseAsync(string entry)
    {
        var path = Path.Combine(Sandbox.Path, $"unsafe-{Guid.NewGuid():N}.tar.gz");
        await using (var file = File.Create(path))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "Decnet.Agent.dll") { DataStream = new MemoryStream("fine"u8.ToArray()) });
            var unsafeEntry = entry switch
            {
                "link" => new PaxTarEntry(TarEntryType.SymbolicLink, entry) { LinkName = "/etc/shadow" },
                "fifo" => new PaxTarEntry(TarEntryType.Fifo, entry),
                _ => new PaxTarEntry(TarEntryType.RegularFile, entry) { DataStream = new MemoryStream("owned"u8.ToArray()) },
            };
            await tar.WriteEntryAsync(unsafeEntry);
        }
        return new ReleasePackage(path, new string('0', 64), new FileInfo(path).Length);
    }
}
