using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Elasticsearch;

namespace Decnet.Tests.Honeypots.Elasticsearch;

public sealed class ElasticsearchHoneypotTests
{
    private static Dictionary<string, string> Persona(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>curl with the status code on the last line of stdout.</summary>
    private static async Task<(int Status, string Body)> Curl(TestDecky decky, string path, params string[] args)
    {
        var result = await RealClient.RunAsync("curl", ["-s", "--max-time", "20", "-w", "\n%{http_code}", .. args, $"http://{decky.Address}:9200{path}"]);
        Assert.True(result.ExitCode == 0, $"curl exit {result.ExitCode}: {result.StdErr}");
        var split = result.StdOut.LastIndexOf('\n');
        return (int.Parse(result.StdOut[(split + 1)..], System.Globalization.CultureInfo.InvariantCulture), result.StdOut[..split]);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Curl_sees_the_banner_the_cat_api_and_cluster_details_and_each_probe_is_an_event()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ElasticsearchHoneypotFactory(), Persona(("cluster_name", "prod-search")));

        var (status, body) = await Curl(decky, "/");
        Assert.Equal(200, status);
        using (var banner = JsonDocument.Parse(body))
        {
            Assert.Equal($"srv-{decky.Name}", banner.RootElement.GetProperty("name").GetString());
            Assert.Equal("prod-search", banner.RootElement.GetProperty("cluster_name").GetString());
            Assert.Equal("7.10.2", banner.RootElement.GetProperty("version").GetProperty("number").GetString());
            Assert.Equal("You Know, for Search", banner.RootElement.GetProperty("tagline").GetString());
        }
        Assert.Contains("\"lucene_version\" : \"8.7.0\"", body, StringComparison.Ordinal);

        var (_, cat) = await Curl(decky, "/_cat/indices?v");
        var lines = cat.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("health status index", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("yellow open   customers ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" app-secrets ", StringComparison.Ordinal));
        var (_, catJson) = await Curl(decky, "/_cat/indices?format=json");
        using (var indices = JsonDocument.Parse(catJson))
        {
            Assert.Equal(["app-secrets", "customers", "users"], indices.RootElement.EnumerateArray().Select(i => i.GetProperty("index").GetString()!).Where(n => !n.StartsWith("logs-", StringComparison.Ordinal)).Order());
        }
        var (_, health) = await Curl(decky, "/_cluster/health");
        Assert.Contains("\"status\":\"yellow\"", health, StringComparison.Ordinal);
        var (_, nodes) = await Curl(decky, "/_nodes");
        Assert.Contains($"\"ip\":\"{decky.Address}\"", nodes, StringComparison.Ordinal);
        var (missing, notFound) = await Curl(decky, "/nope/_search");
        Assert.Equal(404, missing);
        Assert.Contains("index_not_found_exception", notFound, StringComparison.Ordinal);

        var root = await decky.Sink.WaitForAsync("root_probe");
        Assert.StartsWith("curl/", root.Field("user_agent"), StringComparison.Ordinal);
        Assert.Equal("GET", root.Field("method"));
        Assert.Equal("v", (await decky.Sink.WaitForAsync("cat_api", e => e.Field("query") == "v")).Field("query"));
        await decky.Sink.WaitForAsync("cluster_recon");
        await decky.Sink.WaitForAsync("nodes_recon");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Searches_return_bait_documents_and_record_what_was_looked_for()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ElasticsearchHoneypotFactory());

        var (status, body) = await Curl(decky, "/app-secrets/_search", "-H", "Content-Type: application/json",
            "-d", """{"query":{"match":{"service":"aws"}}}""");
        Assert.Equal(200, status);
        using (var result = JsonDocument.Parse(body))
        {
            var hits = result.RootElement.GetProperty("hits");
            Assert.Equal(1, hits.GetProperty("total").GetProperty("value").GetInt32());
            var source = hits.GetProperty("hits")[0].GetProperty("_source");
            Assert.StartsWith("AKIA", source.GetProperty("access_key_id").GetString(), StringComparison.Ordinal);
            Assert.Equal(40, source.GetProperty("secret_access_key").GetString()!.Length);
        }

        var (_, all) = await Curl(decky, "/_search?q=role:superuser&pretty");
        Assert.Contains("\"username\" : \"admin\"", all, StringComparison.Ordinal);
        var (_, count) = await Curl(decky, "/customers/_count");
        Assert.Equal("{\"count\":8,\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0}}", count);
        var (_, page) = await Curl(decky, "/customers/_search?size=3");
        using (var result = JsonDocument.Parse(page))
        {
            Assert.Equal(3, result.RootElement.GetProperty("hits").GetProperty("hits").GetArrayLength());
            var id = result.RootElement.GetProperty("hits").GetProperty("hits")[0].GetProperty("_id").GetString();
            var (found, document) = await Curl(decky, $"/customers/_doc/{id}");
            Assert.Equal(200, found);
            Assert.Contains("\"found\":true", document, StringComparison.Ordinal);
        }

        var search = await decky.Sink.WaitForAsync("search", e => e.Field("index") == "app-secrets");
        Assert.Contains("\"service\":\"aws\"", search.Field("body_preview"), StringComparison.Ordinal);
        Assert.Equal("200", search.Field("status"));
        await decky.Sink.WaitForAsync("search", e => e.Field("query") == "q=role:superuser&pretty");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_ransom_wipe_is_acknowledged_recorded_as_intent_and_the_data_stays()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ElasticsearchHoneypotFactory());

        Assert.Contains("\"acknowledged\":true", (await Curl(decky, "/customers", "-X", "DELETE")).Body, StringComparison.Ordinal);
        Assert.Contains("\"acknowledged\":true", (await Curl(decky, "/_all", "-X", "DELETE")).Body, StringComparison.Ordinal);
        Assert.Equal(200, (await Curl(decky, "/read_me", "-X", "PUT")).Status);
        var (created, note) = await Curl(decky, "/read_me/_doc/1", "-X", "PUT", "-H", "Content-Type: application/json",
            "-d", """{"message":"All your data is backed up. Send 0.01 BTC to 1ransomAddr to recover it."}""");
        Assert.Equal(201, created);
        Assert.Contains("\"result\":\"created\"", note, StringComparison.Ordinal);

        var wipe = await decky.Sink.WaitForAsync("delete_request", e => e.Field("index") == "customers");
        Assert.Equal("delete_index", wipe.Field("intent"));
        Assert.Equal("delete_index", (await decky.Sink.WaitForAsync("delete_request", e => e.Field("index") == "_all")).Field("intent"));
        var put = await decky.Sink.WaitForAsync("put_request", e => e.Field("intent") == "index_document");
        Assert.Equal("read_me", put.Field("index"));
        Assert.Contains("1ransomAddr", put.Field("body_preview"), StringComparison.Ordinal);

        Assert.Contains("\"count\":8", (await Curl(decky, "/customers/_count")).Body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task With_basic_auth_required_credentials_are_captured_and_only_persona_users_get_in()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ElasticsearchHoneypotFactory(), Persona(("auth", "basic"), ("users", "elastic:changeme2024")));

        var anonymous = await RealClient.RunAsync("curl", ["-s", "-i", "--max-time", "20", $"http://{decky.Address}:9200/_cat/indices"]);
        Assert.StartsWith("HTTP/1.1 401 Unauthorized\r\n", anonymous.StdOut, StringComparison.Ordinal);
        Assert.Contains("WWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"", anonymous.StdOut, StringComparison.Ordinal);
        Assert.Contains("missing authentication credentials for REST request [/_cat/indices]", anonymous.StdOut, StringComparison.Ordinal);

        var (denied, reason) = await Curl(decky, "/", "-u", "elastic:elastic");
        Assert.Equal(401, denied);
        Assert.Contains("unable to authenticate user [elastic] for REST request [/]", reason, StringComparison.Ordinal);
        var (allowed, body) = await Curl(decky, "/_cat/indices", "-u", "elastic:changeme2024");
        Assert.Equal(200, allowed);
        Assert.Contains("customers", body, StringComparison.Ordinal);

        var failed = await decky.Sink.WaitForAsync("auth", e => e.Field("status") == "failed");
        Assert.Equal("elastic", failed.Field("username"));
        Assert.Equal("elastic", failed.Field("password"));
        var bounty = DataFamilyKit.CredentialOf(failed);
        Assert.Equal("elastic", bounty["username"]);
        Assert.Equal("elastic", bounty["password"]);
        Assert.Equal("changeme2024", (await decky.Sink.WaitForAsync("auth", e => e.Field("status") == "success")).Field("password"));
        await decky.Sink.WaitForAsync("cat_api", e => e.Field("status") == "401");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_requests_fault_no_session_and_curl_is_still_served()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new ElasticsearchHoneypotFactory());
        var endPoint = hosted.EndPointOf("elasticsearch", 9200);
        byte[] Request(string method, string target, string body = "", string headers = "") =>
            Encoding.UTF8.GetBytes($"{method} {target} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");

        await Robustness.SendGarbageAsync(endPoint,
        [
            Request("POST", "/_search", new string('[', 5000)),
            Request("POST", "/_search", "{\"query\":" + string.Concat(Enumerable.Repeat("{\"bool\":{\"must\":[", 200)) + "]}}"),
            Request("POST", "/_search", "{\"size\":-5,\"from\":99999999999,\"query\":{\"match\":{\"a\":{\"query\":{}}}}}"),
            Request("POST", "/_search", "{\"query\":{\"bool\":[1,2]}}"),
            Request("POST", "/_search", "\u0000\u0001\u0002not json"),
            Request("GET", "/%00%ff%fe/_search?q=%zz&size=%"),
            Request("GET", "/" + string.Join('/', Enumerable.Repeat("_cat", 50))),
            Request("GET", "/a,b,c,*,**,***a*b*/_count"),
            Request("GET", "/_cat/indices/nope?format=json"),
            Request("GET", "/", headers: "Authorization: Basic !!!notbase64\r\n"),
            Request("GET", "/", headers: "Authorization: Basic " + Convert.ToBase64String("nocolon"u8.ToArray()) + "\r\n"),
            Request("POST", "/_bulk", "{\"delete\":{}}\n{\"index\":{}}\n"),
            Encoding.ASCII.GetBytes("POST /_search HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"),
            Encoding.ASCII.GetBytes("POST /_search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n"),
            Encoding.ASCII.GetBytes("GET / HTTP/9.9\r\n\r\n"),
        ]);

        var (status, body) = await Curl(decky, "/");
        Assert.Equal(200, status);
        Assert.Contains("You Know, for Search", body, StringComparison.Ordinal);
        Assert.Contains(decky.Sink.OfType("bad_request"), e => e.Field("status") == "413");
        Assert.Contains(decky.Sink.OfType("search"), e => e.Field("status") == "400");
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_the_decky_as_the_elasticsearch_rest_api()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ElasticsearchHoneypotFactory());
        var output = await DataFamilyKit.NmapVersionScanAsync(decky, 9200);
        DataFamilyKit.AssertNmapLine(output, @"9200/tcp\s+open\s+http\s+Elasticsearch REST API 7\.10\.2");
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Pretty_json_has_the_jackson_layout_elasticsearch_clients_and_scanners_expect()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse("""{"a":"b","c":{"d":1,"e":[]},"f":[1,{}]}""");
        Assert.Equal("{\n  \"a\" : \"b\",\n  \"c\" : {\n    \"d\" : 1,\n    \"e\" : [ ]\n  },\n  \"f\" : [\n    1,\n    { }\n  ]\n}\n", EsJson.Write(node, pretty: true));
        Assert.Equal("""{"a":"b","c":{"d":1,"e":[]},"f":[1,{}]}""", EsJson.Write(node, pretty: false));
    }
}
