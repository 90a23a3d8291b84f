using System.Net;
using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Bounty;

[Trait("Category", TestCategories.Integration)]
public sealed class BountyApiTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("analyst", UserRole.Viewer)).Token);
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        db.Bounties.AddRange(
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 0), Decky = "web-1", Service = "http", AttackerIp = "203.0.113.1", BountyType = "credential",
                Payload = """{"username":"admin","password":"p@ss_1","path":"/login"}""", DedupKey = "k1" },
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 1), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.2", BountyType = "fingerprint",
                Payload = """{"fingerprint_type":"ssh_client","value":"SSH-2.0-Go"}""", DedupKey = "k2" },
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 2), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.3", BountyType = "credential",
                Payload = """{"username":"root","password":"toor"}""", DedupKey = "k3" });
        await db.SaveChangesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _viewer.Dispose();
        await _factory.DisposeAsync();
    }

    private async Task<JsonElement> GetAsync(string query)
    {
        var response = await _viewer.GetAsync("/api/v1/bounty" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task Viewers_list_newest_first_with_the_payload_as_json()
    {
        var body = await GetAsync("");
        Assert.Equal((3, 50, 0), (body.GetProperty("total").GetInt32(), body.GetProperty("limit").GetInt32(), body.GetProperty("offset").GetInt32()));
        var first = body.GetProperty("data")[0];
        Assert.Equal(("ssh-1", "203.0.113.3", "credential"), (first.GetProperty("decky").GetString(), first.GetProperty("attacker_ip").GetString(), first.GetProperty("bounty_type").GetString()));
        Assert.Equal(JsonValueKind.Object, first.GetProperty("payload").ValueKind);
        Assert.Equal("toor", first.GetProperty("payload").GetProperty("password").GetString());
    }

    [Fact]
    public async Task Type_filter_search_and_paging()
    {
        var fingerprints = await GetAsync("?bounty_type=fingerprint");
        Assert.Equal(1, fingerprints.GetProperty("total").GetInt32());
        Assert.Equal("SSH-2.0-Go", fingerprints.GetProperty("data")[0].GetProperty("payload").GetProperty("value").GetString());

        var searched = await GetAsync("?search=" + Uri.EscapeDataString("p@ss_"));
        Assert.Equal("web-1", Assert.Single(searched.GetProperty("data").EnumerateArray()).GetProperty("decky").GetString());
        Assert.Equal(2, (await GetAsync("?search=ssh-1")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await GetAsync("?search=" + Uri.EscapeDataString("%"))).GetProperty("total").GetInt32());

        var paged = await GetAsync("?limit=1&offset=2");
        Assert.Equal(3, paged.GetProperty("total").GetInt32());
        Assert.Equal("web-1", Assert.Single(paged.GetProperty("data").EnumerateArray()).GetProperty("decky").GetString());
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?offset=-1")]
    public async Task Out_of_range_paging_is_400(string query)
    {
        var response = await _viewer.GetAsync("/api/v1/bounty" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_get_401()
    {
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/bounty")).StatusCode);
    }
}
