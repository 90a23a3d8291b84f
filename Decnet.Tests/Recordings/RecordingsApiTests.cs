using System.Net;
using System.Text.Json;
using Decnet.Core.Attackers;
using Decnet.Core.Users;
using Decnet.Tests.Attackers;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Recordings;

/// <summary>/api/v1/attackers/{id}/sessions: listing and serving recordings, and what it refuses.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RecordingsApiTests : IAsyncLifetime
{
    public const string Recording = "20260101T120000Z_0123456789abcdef0123456789abcdef_0.cast";
    public const string Cast = "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":1767268800}\n[0.100000, \"o\", \"root@gate:~# \"]\n[1.000000, \"o\", \"uname -a\\r\\nLinux gate\\r\\n\"]\n";

    private readonly DecnetWebFactory _factory = new();
    private HttpClient _viewer = null!;
    private Guid _attacker;
    private Guid _other;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer)).Token);
        await AttackerSeed.AddAsync(_factory.Services,
            AttackerSeed.Log(0, "gate", "ssh", "connect", "198.51.100.7"),
            AttackerSeed.Log(9, "gate", "ssh", "session_recorded", "198.51.100.7",
                $$"""{"recording":"{{Recording}}","bytes":"{{Cast.Length}}","duration":"1.000","truncated":"false","username":"root","session_id":"0123456789abcdef0123456789abcdef"}"""),
            AttackerSeed.Log(10, "gate", "ssh", "connect", "203.0.113.9"));
        await _factory.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        var directory = _factory.Services.GetRequiredService<AttackerDirectory>();
        _attacker = (await directory.ListAsync(new AttackerQuery(Search: "198.51.100.7"), CancellationToken.None)).Data.Single().Id;
        _other = (await directory.ListAsync(new AttackerQuery(Search: "203.0.113.9"), CancellationToken.None)).Data.Single().Id;
        var folder = Directory.CreateDirectory(Path.Combine(_factory.DataDirectory, "deckies", "gate", "ssh", "recordings"));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, Recording), Cast);
    }

    public async ValueTask DisposeAsync()
    {
        _viewer.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task A_viewer_lists_the_attackers_recorded_sessions()
    {
        using var response = await _viewer.GetAsync($"/api/v1/attackers/{_attacker}/sessions");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, body.GetProperty("total").GetInt32());
        var session = body.GetProperty("data")[0];
        Assert.Equal(Recording, session.GetProperty("name").GetString());
        Assert.Equal("gate", session.GetProperty("decky").GetString());
        Assert.Equal("root", session.GetProperty("username").GetString());
        Assert.True(session.GetProperty("available").GetBoolean());

        using var other = await _viewer.GetAsync($"/api/v1/attackers/{_other}/sessions");
        Assert.Equal(0, JsonDocument.Parse(await other.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt32());
        using var missing = await _viewer.GetAsync($"/api/v1/attackers/{Guid.NewGuid()}/sessions");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_viewer_downloads_the_recording_as_asciicast()
    {
        using var response = await _viewer.GetAsync($"/api/v1/attackers/{_attacker}/sessions/gate/ssh/{Recording}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-asciicast", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(Cast, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Another_attackers_id_does_not_open_the_recording()
    {
        using var response = await _viewer.GetAsync($"/api/v1/attackers/{_other}/sessions/gate/ssh/{Recording}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("gate/ssh/..%2F..%2Fdecnet.db")]
    [InlineData("gate/ssh/x.cast")]
    [InlineData("..%2F..%2Fkeys/ssh/" + Recording)]
    [InlineData("gate/SSH/" + Recording)]
    [InlineData("gate/ssh/20260101T120000Z_0123456789abcdef0123456789abcdef_0.cast.bak")]
    public async Task Names_not_in_the_recorded_form_are_400(string tail)
    {
        using var response = await _viewer.GetAsync($"/api/v1/attackers/{_attacker}/sessions/{tail}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_recording_replaced_by_a_link_is_not_served()
    {
        var folder = Path.Combine(_factory.DataDirectory, "deckies", "gate", "ssh", "recordings");
        var outside = Path.Combine(_factory.DataDirectory, "secret.txt");
        await File.WriteAllTextAsync(outside, "not for attackers' recordings");
        File.Delete(Path.Combine(folder, Recording));
        File.CreateSymbolicLink(Path.Combine(folder, Recording), outside);

        using var response = await _viewer.GetAsync($"/api/v1/attackers/{_attacker}/sessions/gate/ssh/{Recording}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var list = await _viewer.GetAsync($"/api/v1/attackers/{_attacker}/sessions");
        Assert.False(JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("available").GetBoolean());
    }
}
