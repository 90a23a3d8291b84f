using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Api;

[Trait("Category", TestCategories.Integration)]
public sealed class DeckiesApiTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();
    private readonly string _net = Clients.LabSubnetPrefix();
    private HttpClient _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _admin = _factory.CreateClient((await _factory.CreateActiveUserAsync("deployer", UserRole.Admin)).Token);
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
    }

    private string Ini(params string[] deckies) =>
        $"[general]\nnet = {_net}.0/24\ngw = {_net}.1\n\n" + string.Join("\n", deckies.Select((d, i) => $"[{d}]\nip = {_net}.{50 + i}\nservices = redis\n"));

    [Fact]
    public async Task Deploy_list_mutate_interval_and_teardown_through_the_api()
    {
        var deploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = Ini("api-one", "api-two") });
        Assert.Equal(HttpStatusCode.OK, deploy.StatusCode);
        var body = JsonDocument.Parse(await deploy.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("unihost", body.GetProperty("mode").GetString());
        Assert.Equal(2, body.GetProperty("deckies").GetArrayLength());
        Assert.All(body.GetProperty("deckies").EnumerateArray(), d => Assert.Equal("running", d.GetProperty("state").GetString()));

        var list = JsonDocument.Parse(await _admin.GetStringAsync("/api/v1/deckies")).RootElement;
        var one = list.EnumerateArray().Single(d => d.GetProperty("name").GetString() == "api-one");
        Assert.Equal($"{_net}.50", one.GetProperty("ip").GetString());
        Assert.Equal("running", one.GetProperty("runtime")[0].GetProperty("state").GetString());
        Assert.Equal(30, one.GetProperty("effective_mutate_interval").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync("/api/v1/deckies/api-one/mutate-interval", new { mutate_interval = "2d" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PutAsJsonAsync("/api/v1/deckies/api-one/mutate-interval", new { mutate_interval = "5s" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PutAsJsonAsync("/api/v1/deckies/ghost/mutate-interval", new { mutate_interval = "2d" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/v1/deckies/api-two/mutate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsync("/api/v1/deckies/ghost/mutate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsync("/api/v1/deckies/bad%20name!/mutate", null)).StatusCode);

        list = JsonDocument.Parse(await _admin.GetStringAsync("/api/v1/deckies")).RootElement;
        Assert.Equal(2880, list.EnumerateArray().Single(d => d.GetProperty("name").GetString() == "api-one").GetProperty("mutate_interval").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await _admin.DeleteAsync("/api/v1/deckies/api-one")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync("/api/v1/deckies/api-one")).StatusCode);
        Assert.Single(JsonDocument.Parse(await _admin.GetStringAsync("/api/v1/deckies")).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task A_bad_ini_gets_422_with_every_error_located_and_the_fleet_is_untouched()
    {
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = Ini("keeper") })).StatusCode);
        var bad = $"[general]\nnet = 10.0.0.0/33\n\n[x]\nservices = telnetz\namount = 500\n";

        var response = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = bad });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.True(errors.Count >= 2, problem.ToString());
        Assert.Contains(errors, e => e.GetProperty("key").GetString() == "net" && e.GetProperty("line").GetInt32() == 2);
        Assert.Contains(errors, e => e.GetProperty("section").GetString() == "x" && e.GetProperty("key").GetString() == "amount");
        var list = JsonDocument.Parse(await _admin.GetStringAsync("/api/v1/deckies")).RootElement;
        Assert.Equal("keeper", list.EnumerateArray().Single().GetProperty("name").GetString());
    }

    [Fact]
    public async Task Garbage_empty_and_missing_inis_are_refused_clearly()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = "\u0000\u0001 garbage ]]][[" })).StatusCode);
        var huge = new string('#', 600 * 1024);
        var tooBig = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = huge });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooBig.StatusCode);
        Assert.Contains("512 KiB", await tooBig.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exceeding_the_deployment_limit_is_a_409()
    {
        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync("/api/v1/config/deployment-limit", new { deployment_limit = 1 })).StatusCode);
        var response = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = Ini("a1", "a2") });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("limit is 1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_deployment_mode_says_local_with_the_runtime()
    {
        var mode = JsonDocument.Parse(await _admin.GetStringAsync("/api/v1/system/deployment-mode")).RootElement;
        Assert.Equal("unihost", mode.GetProperty("mode").GetString());
        Assert.Equal("embedded", mode.GetProperty("runtime").GetString());
        Assert.Equal(0, mode.GetProperty("swarm_host_count").GetInt32());
    }
}
