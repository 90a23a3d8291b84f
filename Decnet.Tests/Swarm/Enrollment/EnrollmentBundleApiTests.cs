using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Swarm;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The API face of the wizard on the whole master: an admin gets the one-liner, the worker downloads
/// the script and the bundle anonymously, each exactly once, and nobody can hammer the capability URLs.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EnrollmentBundleApiTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new(new Dictionary<string, string?> { ["Decnet:Swarm:BundleDownloadsPerMinute"] = "6" });
    private string _admin = "";
    private string _viewer = "";

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _admin = (await _factory.CreateActiveUserAsync("enroller", UserRole.Admin)).Token;
        _viewer = (await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer)).Token;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task An_admin_gets_a_curl_pipe_bash_command_whose_script_and_bundle_download_once()
    {
        using var admin = _factory.CreateClient(_admin);

        using var created = await admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "branch-1", use_ipvlan = true });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var command = body.GetProperty("command").GetString()!;
        var scriptUrl = new Uri(body.GetProperty("script_url").GetString()!);
        Assert.Equal($"curl -fsSL {scriptUrl.AbsoluteUri} | sudo bash", command);
        Assert.Equal("10.20.0.1", scriptUrl.Host);
        Assert.Matches("^/api/v1/swarm/enroll-bundle/[A-Za-z0-9_-]{32}\\.sh$", scriptUrl.AbsolutePath);
        var expiresIn = body.GetProperty("expires_at").GetDateTimeOffset() - DateTimeOffset.UtcNow;
        Assert.InRange(expiresIn, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        var host = await _factory.Services.GetRequiredService<SwarmOverview>().HostAsync(body.GetProperty("host_uuid").GetGuid(), CancellationToken.None);
        Assert.Equal(("branch-1", SwarmHostStatus.Enrolled, true), (host!.Name, host.Status, host.UseIpvlan));

        using var anonymous = _factory.CreateClient();
        using var script = await anonymous.GetAsync(scriptUrl.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        var scriptText = await script.Content.ReadAsStringAsync();
        Assert.StartsWith("#!/usr/bin/env bash", scriptText);
        var archivePath = scriptUrl.AbsolutePath[..^3] + ".tgz";
        Assert.Contains(archivePath, scriptText);
        using var scriptAgain = await anonymous.GetAsync(scriptUrl.AbsolutePath);
        Assert.Equal(HttpStatusCode.Gone, scriptAgain.StatusCode);

        using var archive = await anonymous.GetAsync(archivePath);
        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        Assert.Equal("application/gzip", archive.Content.Headers.ContentType?.MediaType);
        var bytes = await archive.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 1_000_000, $"the bundle is only {bytes.Length} bytes: the agent build is missing");
        Assert.Equal([0x1f, 0x8b], bytes[..2]);
        using var archiveAgain = await anonymous.GetAsync(archivePath);
        Assert.NotEqual(HttpStatusCode.OK, archiveAgain.StatusCode);
    }

    [Fact]
    public async Task Viewers_cannot_enroll_and_taken_names_are_a_409()
    {
        using var viewer = _factory.CreateClient(_viewer);
        using var admin = _factory.CreateClient(_admin);

        using var refused = await viewer.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "viewer-node" });
        using var first = await admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "dup-node" });
        using var second = await admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "dup-node" });
        using var invalid = await admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "10.20.0.1", agent_name = "bad name!" });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.False(await _factory.Services.GetRequiredService<SwarmOverview>().NameExistsAsync("viewer-node", CancellationToken.None));
    }

    [Fact]
    public async Task Guessing_tokens_is_rate_limited_per_address()
    {
        using var anonymous = _factory.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await anonymous.GetAsync($"/api/v1/swarm/enroll-bundle/{new string('A', 31)}{i}.sh");
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses[..6], s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[7]);
    }
}
