using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Core.Honeypots.Elasticsearch;

public sealed class ElasticsearchHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "elasticsearch";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(9200)];

    public IHoneypotService Create(ServiceContext context) => new ElasticsearchHoneypot(context);
}

/// <summary>
/// A single-node Elasticsearch 7 REST API. By default it is open, as the clusters leaked data is found in
/// are: the banner, <c>_cat</c>, cluster and node details, and searches over bait indices (customers, users
/// with API keys, an application's secrets, request logs). Writes and deletes, the ransom crews' signature,
/// are acknowledged and recorded as intent without changing anything. With persona <c>auth=basic</c>
/// every request needs HTTP Basic credentials (persona <c>users</c> get in); every credential sent is captured.
/// </summary>
public sealed class ElasticsearchHoneypot : IHoneypotService
{
    public const string DefaultVersion = "7.10.2";
    public const int BodyPreviewChars = 512;
    private const int MaxRequestsPerConnection = 1000;
    private const int MaxPageSize = 100;
    private const int MaxSegments = 8;
    private const int MaxQueryTerms = 16;

    private static readonly string[] CatEndpoints =
        ["allocation", "shards", "master", "nodes", "tasks", "indices", "segments", "count", "recovery", "health", "pending_tasks", "aliases", "thread_pool", "plugins", "fielddata", "nodeattrs", "repositories", "templates"];

    private readonly Lazy<IReadOnlyList<EsIndex>> _indices;
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly string _clusterUuid;
    private readonly string _nodeId;
    private readonly DateTimeOffset _started;

    public ElasticsearchHoneypot(ServiceContext context)
    {
        Context = context;
        _users = PersonaCredentials.Parse(context.PersonaValue("users"));
        RequiresAuth = (context.PersonaValue("auth") ?? "none").Trim().ToLowerInvariant() is "basic" or "required" or "true";
        _indices = new Lazy<IReadOnlyList<EsIndex>>(() => ElasticsearchBait.For(context.Hostname));
        var identity = SHA256.HashData(Encoding.UTF8.GetBytes("es-cluster:" + context.Hostname));
        _clusterUuid = Convert.ToBase64String(identity, 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _nodeId = Convert.ToBase64String(identity, 16, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _started = context.Time.GetUtcNow().AddSeconds(-RandomNumberGenerator.GetInt32(86_400 * 5, 86_400 * 60));
    }

    public ServiceContext Context { get; }

    public string Version => Context.PersonaValue("version") ?? DefaultVersion;

    public string ClusterName => Context.PersonaValue("cluster_name") ?? "elasticsearch";

    public bool RequiresAuth { get; }

    private int Major => int.TryParse(Version.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 7;

    private sealed record Response(int Status, string Body, string ContentType = "application/json; charset=UTF-8")
    {
        public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
    }

    /// <summary>What one request was, for its event: the event type and the index it touched.</summary>
    private sealed record Route(string EventType, string? Index = null, string? Intent = null);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client reset the connection or left before the answer was written: an ordinary end, not a fault.
            connection.SetDisconnectDetails(("peer_reset", "true"));
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var reader = new HttpRequestReader(new LineReader(stream, Context.Limits.MaxLineLength, HttpRequestReader.HeaderEncoding));
        for (var served = 0; served < MaxRequestsPerConnection; served++)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.Status == HttpReadStatus.EndOfStream)
            {
                return;
            }
            if (result.Status != HttpReadStatus.Request)
            {
                var status = result.Status switch
                {
                    HttpReadStatus.UriTooLong => 414,
                    HttpReadStatus.HeadersTooLarge => 431,
                    HttpReadStatus.PayloadTooLarge => 413,
                    _ => 400,
                };
                connection.Emit("bad_request", ("status", status.ToString(CultureInfo.InvariantCulture)), ("error", result.Error));
                await WriteAsync(stream, "HTTP/1.1", new Response(status, string.Empty), head: false, cancellationToken).ConfigureAwait(false);
                return;
            }
            var request = result.Request!;
            var response = Answer(connection, request);
            await WriteAsync(stream, request.Version, response, request.Method == "HEAD", cancellationToken).ConfigureAwait(false);
            if (!request.KeepAlive)
            {
                return;
            }
        }
    }

    private Response Answer(HoneypotConnection connection, HttpRequest request)
    {
        var path = Uri.UnescapeDataString(request.Path.Length > 2048 ? request.Path[..2048] : request.Path);
        var query = Query(request.Query);
        var pretty = query.ContainsKey("pretty") && query["pretty"] is "" or "true";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var route = Classify(request.Method, segments);

        Response response;
        var credentials = Credentials(request);
        if (credentials is { } sent)
        {
            var accepted = _users.Accepts(sent.Username, sent.Password);
            connection.Emit("auth",
                ("username", sent.Username),
                ("password", sent.Password),
                ("scheme", "basic"),
                ("path", Truncate(path, 256)),
                ("status", RequiresAuth ? (accepted ? "success" : "failed") : "not_required"));
            response = RequiresAuth && !accepted
                ? SecurityError($"unable to authenticate user [{Truncate(sent.Username, 64)}] for REST request [{Truncate(path, 256)}]")
                : Dispatch(connection, request, segments, route, query, pretty);
        }
        else if (RequiresAuth)
        {
            var scheme = request.Header("Authorization") is { } other ? other.Split(' ', 2)[0] : null;
            if (scheme is not null)
            {
                // API keys and bearer tokens: kept whole, they are credentials too.
                connection.Emit("auth", ("scheme", Truncate(scheme, 32)), ("token", Truncate(request.Header("Authorization"), 512)), ("path", Truncate(path, 256)), ("status", "failed"));
            }
            response = SecurityError(scheme is null
                ? $"missing authentication credentials for REST request [{Truncate(path, 256)}]"
                : $"unable to authenticate with provided credentials and anonymous access is not allowed for this request");
        }
        else
        {
            response = Dispatch(connection, request, segments, route, query, pretty);
        }

        connection.Emit(route.EventType,
            ("method", request.Method),
            ("path", Truncate(path, 1024)),
            ("query", request.Query.Length > 0 ? Truncate(request.Query, 1024) : null),
            ("index", route.Index is null ? null : Truncate(route.Index, 256)),
            ("intent", route.Intent),
            ("body_preview", Preview(request.Body)),
            ("body_length", request.BodyLength > 0 ? request.BodyLength.ToString(CultureInfo.InvariantCulture) : null),
            ("user_agent", Truncate(request.Header("User-Agent"), 512)),
            ("status", response.Status.ToString(CultureInfo.InvariantCulture)));
        return response;
    }

    /// <summary>The event a request makes: upstream's types for recon, a search type, and per-method ones otherwise.</summary>
    private static Route Classify(string method, string[] segments)
    {
        if (segments.Length == 0)
        {
            return new Route("root_probe");
        }
        var first = segments[0];
        var index = first.StartsWith('_') && first != "_all" ? null : first;
        var action = index is null ? first : segments.Length > 1 ? segments[1] : null;
        var kind = first switch
        {
            "_cat" => "cat_api",
            "_cluster" => "cluster_recon",
            "_nodes" => "nodes_recon",
            "_security" or "_xpack" or "_license" or "_ssl" => "security_probe",
            _ when action is "_search" or "_count" or "_msearch" => "search",
            _ => method switch
            {
                "POST" => "post_request",
                "PUT" => "put_request",
                "DELETE" => "delete_request",
                "HEAD" => "head_request",
                _ => "request",
            },
        };
        string? intent = (method, action) switch
        {
            ("DELETE", null) => "delete_index",
            ("DELETE", "_doc") => "delete_document",
            ("PUT", null) => "create_index",
            ("PUT" or "POST", "_doc" or "_create" or "_update") => "index_document",
            ("PUT" or "POST", "_bulk") => "bulk",
            ("PUT" or "POST", "_settings" or "_mapping") => "change_index",
            ("POST", "_delete_by_query") => "delete_by_query",
            ("POST" or "PUT", "_snapshot") => "snapshot",
            _ => null,
        };
        return new Route(kind, index, intent);
    }

    private Response Dispatch(HoneypotConnection connection, HttpRequest request, string[] segments, Route route, Dictionary<string, string> query, bool pretty)
    {
        if (segments.Length > MaxSegments)
        {
            return NoHandler(request);
        }
        var method = request.Method;
        if (segments.Length == 0)
        {
            return method is "GET" or "HEAD" ? Json(Banner(), pretty: true) : WrongMethod(request, "HEAD, GET");
        }
        var first = segments[0];
        var rest = segments[1..];
        return first switch
        {
            "_cat" => Cat(connection, rest, query),
            "_cluster" => Cluster(rest, pretty),
            "_nodes" => Json(Nodes(connection), pretty),
            "_xpack" when rest.Length == 0 => Json(XPack(), pretty),
            "_security" or "_xpack" or "_license" or "_ssl" => Json(SecurityDisabled(), pretty, 500),
            "_search" or "_count" or "_msearch" => Search(request, "_all", first, query, pretty),
            "_all" or "*" => Index(request, first, rest, query, pretty),
            "_aliases" or "_alias" => Json(new JsonObject(_indices.Value.Select(i => KeyValuePair.Create(i.Name, (JsonNode?)new JsonObject { ["aliases"] = new JsonObject() }))), pretty),
            "_mapping" or "_settings" or "_stats" => Json(IndexInfo(_indices.Value, first), pretty),
            "_bulk" when method is "POST" or "PUT" => Bulk(request, pretty),
            "_template" or "_index_template" or "_ingest" or "_snapshot" or "_tasks" or "_plugins" when method == "GET" => Json(new JsonObject(), pretty),
            _ when first.StartsWith('_') => NoHandler(request),
            _ => Index(request, first, rest, query, pretty),
        };
    }

    private JsonObject Banner()
    {
        var (hash, date, lucene) = Build();
        return new JsonObject
        {
            ["name"] = Context.Hostname,
            ["cluster_name"] = ClusterName,
            ["cluster_uuid"] = _clusterUuid,
            ["version"] = new JsonObject
            {
                ["number"] = Version,
                ["build_flavor"] = "default",
                ["build_type"] = "deb",
                ["build_hash"] = hash,
                ["build_date"] = date,
                ["build_snapshot"] = false,
                ["lucene_version"] = lucene,
                ["minimum_wire_compatibility_version"] = Major >= 8 ? "7.17.0" : "6.8.0",
                ["minimum_index_compatibility_version"] = Major >= 8 ? "7.0.0" : "6.0.0-beta1",
            },
            ["tagline"] = "You Know, for Search",
        };
    }

    /// <summary>Build facts of the persona version: the real ones for the default, consistent stand-ins otherwise.</summary>
    private (string Hash, string Date, string Lucene) Build()
    {
        if (Version == DefaultVersion)
        {
            return ("747e1cc71def077253878a59143c1f785afa92b9", "2021-01-13T00:42:12.435326Z", "8.7.0");
        }
#pragma warning disable CA5350 // A stand-in commit id looks like git's SHA-1; nothing is protected by it.
        var hash = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes("elasticsearch " + Version)));
#pragma warning restore CA5350
        var minor = Version.Split('.') is { Length: > 1 } parts && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        var lucene = (Major, minor) switch
        {
            (6, _) => "7.7.3",
            (7, < 3) => "8.0.0",
            (7, < 7) => "8.4.0",
            (7, < 10) => "8.6.2",
            (7, < 12) => "8.7.0",
            (7, < 16) => "8.9.0",
            (7, _) => "8.11.1",
            (8, < 8) => "9.4.2",
            (8, _) => "9.10.0",
            _ => "8.7.0",
        };
        return (hash, "2024-01-11T10:05:27.953830042Z", lucene);
    }

    private JsonObject XPack() => new()
    {
        ["build"] = new JsonObject { ["hash"] = Build().Hash, ["date"] = Build().Date },
        ["license"] = new JsonObject { ["uid"] = _clusterUuid, ["type"] = "basic", ["mode"] = "basic", ["status"] = "active" },
        ["features"] = new JsonObject
        {
            ["security"] = new JsonObject { ["available"] = true, ["enabled"] = RequiresAuth },
            ["monitoring"] = new JsonObject { ["available"] = true, ["enabled"] = true },
            ["ml"] = new JsonObject { ["available"] = false, ["enabled"] = true },
        },
        ["tagline"] = "You know, for X",
    };

    private JsonObject SecurityDisabled() => Error("exception",
        "Security must be explicitly enabled when using a [basic] license. Enable security by setting [xpack.security.enabled] to [true] in the elasticsearch.yml file and restart the node.", 500);

    private Response Cat(HoneypotConnection connection, string[] rest, Dictionary<string, string> query)
    {
        if (rest.Length == 0)
        {
            return new Response(200, "=^.^=\n" + string.Concat(CatEndpoints.Select(e => $"/_cat/{e}\n")), "text/plain; charset=UTF-8");
        }
        var now = Context.Time.GetUtcNow();
        var indices = _indices.Value;
        var ip = connection.Local.Address.IsIPv4MappedToIPv6 ? connection.Local.Address.MapToIPv4().ToString() : connection.Local.Address.ToString();
        var selected = rest.Length > 1 ? Resolve(rest[1]) : indices;
        (string[] Header, List<string[]> Rows)? table = rest[0] switch
        {
            "indices" => (["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"],
                [.. (selected ?? []).Select(i => new[] { "yellow", "open", i.Name, i.Uuid, "1", "1", i.Documents.Count.ToString(CultureInfo.InvariantCulture), "0", Size(i.StoreBytes), Size(i.StoreBytes) })]),
            "health" => (["epoch", "timestamp", "cluster", "status", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "pending_tasks", "max_task_wait_time", "active_shards_percent"],
                [[now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), now.ToString("HH:mm:ss", CultureInfo.InvariantCulture), ClusterName, "yellow", "1", "1",
                    indices.Count.ToString(CultureInfo.InvariantCulture), indices.Count.ToString(CultureInfo.InvariantCulture), "0", "0", indices.Count.ToString(CultureInfo.InvariantCulture), "0", "-", "50.0%"]]),
            "nodes" => (["ip", "heap.percent", "ram.percent", "cpu", "load_1m", "load_5m", "load_15m", "node.role", "master", "name"],
                [[ip, "41", "96", "3", "0.14", "0.09", "0.08", Major >= 8 ? "cdfhilmrstw" : "cdhilmrstw", "*", Context.Hostname]]),
            "master" => (["id", "host", "ip", "node"], [[_nodeId, ip, ip, Context.Hostname]]),
            "count" => (["epoch", "timestamp", "count"],
                [[now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), now.ToString("HH:mm:ss", CultureInfo.InvariantCulture), (selected ?? []).Sum(i => i.Documents.Count).ToString(CultureInfo.InvariantCulture)]]),
            "shards" => (["index", "shard", "prirep", "state", "docs", "store", "ip", "node"],
                [.. (selected ?? []).SelectMany(i => new[]
                {
                    new[] { i.Name, "0", "p", "STARTED", i.Documents.Count.ToString(CultureInfo.InvariantCulture), Size(i.StoreBytes), ip, Context.Hostname },
                    [i.Name, "0", "r", "UNASSIGNED", "", "", "", ""],
                })]),
            "aliases" or "templates" or "pending_tasks" or "repositories" or "plugins" or "nodeattrs" or "tasks" => (["name"], []),
            _ => null,
        };
        if (table is null)
        {
            return new Response(400, EsJson.Write(new JsonObject { ["error"] = $"no handler found for uri [/_cat/{Truncate(rest[0], 64)}] and method [GET]", ["status"] = 400 }, false));
        }
        if (selected is null)
        {
            return IndexNotFound(rest[1]);
        }
        var (header, rows) = table.Value;
        if (query.TryGetValue("format", out var format) && format == "json")
        {
            var array = new JsonArray([.. rows.Select(row => (JsonNode?)new JsonObject(header.Select((h, i) => KeyValuePair.Create(h, (JsonNode?)JsonValue.Create(row[i])))))]);
            return Json(array, query.ContainsKey("pretty"));
        }
        return new Response(200, CatTable(header, rows, query.ContainsKey("v")), "text/plain; charset=UTF-8");
    }

    /// <summary>The _cat layout: columns padded to their widest cell, numbers right-aligned.</summary>
    private static string CatTable(string[] header, List<string[]> rows, bool verbose)
    {
        var all = verbose ? rows.Prepend(header).ToList() : rows;
        var widths = header.Select((_, i) => all.Count == 0 ? 0 : all.Max(r => r[i].Length)).ToArray();
        var builder = new StringBuilder();
        foreach (var row in all)
        {
            var line = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                var numeric = row != header && row[i].Length > 0 && (char.IsAsciiDigit(row[i][0]) || row[i][0] == '-') && row[i].All(c => char.IsAsciiDigit(c) || c is '.' or '%' or 'b' or 'k' or 'm' or 'g' or '-');
                line.Append(numeric ? row[i].PadLeft(widths[i]) : row[i].PadRight(widths[i])).Append(' ');
            }
            builder.Append(line.ToString().TrimEnd(' ')).Append('\n');
        }
        return builder.ToString();
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes}b",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#}kb"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#}mb"),
    };

    private Response Cluster(string[] rest, bool pretty)
    {
        var shards = _indices.Value.Count;
        return (rest.Length > 0 ? rest[0] : "health") switch
        {
            "health" => Json(new JsonObject
            {
                ["cluster_name"] = ClusterName,
                ["status"] = "yellow",
                ["timed_out"] = false,
                ["number_of_nodes"] = 1,
                ["number_of_data_nodes"] = 1,
                ["active_primary_shards"] = shards,
                ["active_shards"] = shards,
                ["relocating_shards"] = 0,
                ["initializing_shards"] = 0,
                ["unassigned_shards"] = shards,
                ["delayed_unassigned_shards"] = 0,
                ["number_of_pending_tasks"] = 0,
                ["number_of_in_flight_fetch"] = 0,
                ["task_max_waiting_in_queue_millis"] = 0,
                ["active_shards_percent_as_number"] = 50.0,
            }, pretty),
            "settings" => Json(new JsonObject { ["persistent"] = new JsonObject(), ["transient"] = new JsonObject() }, pretty),
            "state" => Json(new JsonObject
            {
                ["cluster_name"] = ClusterName,
                ["cluster_uuid"] = _clusterUuid,
                ["master_node"] = _nodeId,
                ["nodes"] = new JsonObject { [_nodeId] = new JsonObject { ["name"] = Context.Hostname, ["transport_address"] = Context.Hostname + ":9300" } },
                ["metadata"] = new JsonObject { ["indices"] = new JsonObject(_indices.Value.Select(i => KeyValuePair.Create(i.Name, (JsonNode?)new JsonObject { ["state"] = "open" }))) },
            }, pretty),
            "stats" => Json(new JsonObject
            {
                ["cluster_name"] = ClusterName,
                ["cluster_uuid"] = _clusterUuid,
                ["status"] = "yellow",
                ["indices"] = new JsonObject { ["count"] = shards, ["docs"] = new JsonObject { ["count"] = _indices.Value.Sum(i => i.Documents.Count), ["deleted"] = 0 } },
                ["nodes"] = new JsonObject { ["count"] = new JsonObject { ["total"] = 1 }, ["versions"] = new JsonArray(Version) },
            }, pretty),
            _ => Json(Error("illegal_argument_exception", $"request [/_cluster/{Truncate(rest[0], 64)}] contains unrecognized metric", 400), pretty, 400),
        };
    }

    private JsonObject Nodes(HoneypotConnection connection)
    {
        var ip = connection.Local.Address.IsIPv4MappedToIPv6 ? connection.Local.Address.MapToIPv4().ToString() : connection.Local.Address.ToString();
        var uptime = Context.Time.GetUtcNow() - _started;
        return new JsonObject
        {
            ["_nodes"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 },
            ["cluster_name"] = ClusterName,
            ["nodes"] = new JsonObject
            {
                [_nodeId] = new JsonObject
                {
                    ["name"] = Context.Hostname,
                    ["transport_address"] = ip + ":9300",
                    ["host"] = ip,
                    ["ip"] = ip,
                    ["version"] = Version,
                    ["build_flavor"] = "default",
                    ["build_type"] = "deb",
                    ["build_hash"] = Build().Hash,
                    ["roles"] = new JsonArray("data", "ingest", "master", "ml", "remote_cluster_client", "transform"),
                    ["settings"] = new JsonObject
                    {
                        ["path"] = new JsonObject { ["home"] = "/usr/share/elasticsearch", ["data"] = "/var/lib/elasticsearch", ["logs"] = "/var/log/elasticsearch" },
                        ["network"] = new JsonObject { ["host"] = "0.0.0.0" },
                        ["discovery"] = new JsonObject { ["type"] = "single-node" },
                    },
                    ["os"] = new JsonObject { ["name"] = "Linux", ["arch"] = "amd64", ["version"] = "5.15.0-105-generic", ["available_processors"] = 4 },
                    ["process"] = new JsonObject { ["id"] = 800 + ((Context.Hostname.GetHashCode(StringComparison.Ordinal) & 0x7fffffff) % 4000), ["mlockall"] = false },
                    ["jvm"] = new JsonObject
                    {
                        ["version"] = Major >= 8 ? "21.0.1" : "15.0.1",
                        ["vm_name"] = "OpenJDK 64-Bit Server VM",
                        ["start_time_in_millis"] = _started.ToUnixTimeMilliseconds(),
                        ["mem"] = new JsonObject { ["heap_max_in_bytes"] = 1_073_741_824L },
                    },
                    ["uptime_in_millis"] = (long)uptime.TotalMilliseconds,
                },
            },
        };
    }

    /// <summary>Indices named by a path segment: a comma list of names or wildcard patterns; null when a plain name does not exist.</summary>
    private List<EsIndex>? Resolve(string expression)
    {
        var result = new List<EsIndex>();
        foreach (var part in expression.Split(',', StringSplitOptions.RemoveEmptyEntries).Take(MaxQueryTerms))
        {
            if (part is "_all" or "*")
            {
                result.AddRange(_indices.Value);
            }
            else if (part.Contains('*', StringComparison.Ordinal))
            {
                result.AddRange(_indices.Value.Where(i => Glob(part, i.Name)));
            }
            else if (_indices.Value.FirstOrDefault(i => i.Name == part) is { } index)
            {
                result.Add(index);
            }
            else
            {
                return null;
            }
        }
        return [.. result.Distinct()];
    }

    private static bool Glob(string pattern, string name)
    {
        var pieces = pattern.Split('*');
        if (!name.StartsWith(pieces[0], StringComparison.Ordinal) || !name.EndsWith(pieces[^1], StringComparison.Ordinal) || name.Length < pieces[0].Length + pieces[^1].Length)
        {
            return false;
        }
        var at = pieces[0].Length;
        foreach (var piece in pieces[1..^1])
        {
            var found = name.IndexOf(piece, at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            at = found + piece.Length;
        }
        return at <= name.Length - pieces[^1].Length;
    }

    private Response Index(HttpRequest request, string name, string[] rest, Dictionary<string, string> query, bool pretty)
    {
        var method = request.Method;
        var action = rest.Length > 0 ? rest[0] : null;
        if (action is "_search" or "_count" or "_msearch")
        {
            return Search(request, name, action, query, pretty);
        }
        // Writes are acknowledged as a real cluster would and change nothing.
        switch (method, action)
        {
            case ("DELETE", null):
                return Resolve(name) is null ? IndexNotFound(name) : Acknowledged(pretty);
            case ("PUT", null):
                return Json(new JsonObject { ["acknowledged"] = true, ["shards_acknowledged"] = true, ["index"] = name }, pretty);
            case ("PUT" or "POST", "_doc" or "_create"):
                return Json(WriteResult(name, rest.Length > 1 ? rest[1] : NewId(), "created"), pretty, 201);
            case ("POST", "_update"):
                return Json(WriteResult(name, rest.Length > 1 ? rest[1] : NewId(), "updated"), pretty);
            case ("DELETE", "_doc"):
                return Json(WriteResult(name, rest.Length > 1 ? rest[1] : NewId(), "not_found"), pretty, 404);
            case ("POST" or "PUT", "_bulk"):
                return Bulk(request, pretty);
            case ("POST", "_delete_by_query"):
                var victims = Resolve(name)?.Sum(i => i.Documents.Count) ?? 0;
                return Json(new JsonObject { ["took"] = 41, ["timed_out"] = false, ["total"] = victims, ["deleted"] = victims, ["batches"] = 1, ["failures"] = new JsonArray() }, pretty);
            case ("PUT" or "POST", "_settings" or "_mapping"):
                return Acknowledged(pretty);
        }
        var indices = Resolve(name);
        if (indices is null)
        {
            return IndexNotFound(name);
        }
        return action switch
        {
            null when method == "HEAD" => new Response(indices.Count > 0 ? 200 : 404, string.Empty),
            null when method == "GET" => Json(IndexInfo(indices, null), pretty),
            "_mapping" or "_settings" or "_stats" or "_alias" or "_aliases" when method == "GET" => Json(IndexInfo(indices, action), pretty),
            "_doc" or "_source" when method is "GET" or "HEAD" && rest.Length > 1 => Document(indices, name, rest[1], action == "_source", pretty),
            _ when action is not null && action.StartsWith('_') => NoHandler(request),
            _ => WrongMethod(request, "GET, HEAD, PUT, DELETE"),
        };
    }

    private JsonObject WriteResult(string index, string id, string result) => new()
    {
        ["_index"] = index,
        ["_type"] = Major >= 8 ? null : "_doc",
        ["_id"] = id,
        ["_version"] = 1,
        ["result"] = result,
        ["_shards"] = new JsonObject { ["total"] = 2, ["successful"] = 1, ["failed"] = 0 },
        ["_seq_no"] = RandomNumberGenerator.GetInt32(20, 400),
        ["_primary_term"] = 1,
    };

    private static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', '-').Replace('/', '_');

    private Response Bulk(HttpRequest request, bool pretty)
    {
        // NDJSON: action lines alternate with sources (deletes have none); count the actions for a plausible answer.
        var lines = Encoding.UTF8.GetString(request.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var items = new JsonArray();
        for (var i = 0; i < lines.Length && items.Count < 1000; i++)
        {
            var action = lines[i].Contains("\"delete\"", StringComparison.Ordinal) ? "delete" : lines[i].Contains("\"create\"", StringComparison.Ordinal) ? "create" : "index";
            items.Add(new JsonObject { [action] = new JsonObject { ["_id"] = NewId(), ["_version"] = 1, ["result"] = action == "delete" ? "not_found" : "created", ["status"] = action == "delete" ? 404 : 201 } });
            if (action != "delete")
            {
                i++;
            }
        }
        return Json(new JsonObject { ["took"] = 12, ["errors"] = false, ["items"] = items }, pretty);
    }

    private JsonObject IndexInfo(IReadOnlyList<EsIndex> indices, string? part)
    {
        var result = new JsonObject();
        foreach (var index in indices)
        {
            var properties = new JsonObject();
            foreach (var (field, type) in index.Mappings.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                properties[field] = type == "text"
                    ? new JsonObject { ["type"] = "text", ["fields"] = new JsonObject { ["keyword"] = new JsonObject { ["type"] = "keyword", ["ignore_above"] = 256 } } }
                    : new JsonObject { ["type"] = type };
            }
            var mappings = new JsonObject { ["properties"] = properties };
            var settings = new JsonObject
            {
                ["index"] = new JsonObject
                {
                    ["creation_date"] = (_started.ToUnixTimeMilliseconds() - 86_400_000L * 90).ToString(CultureInfo.InvariantCulture),
                    ["number_of_shards"] = "1",
                    ["number_of_replicas"] = "1",
                    ["uuid"] = index.Uuid,
                    ["version"] = new JsonObject { ["created"] = "7100299" },
                    ["provided_name"] = index.Name,
                },
            };
            result[index.Name] = part switch
            {
                "_mapping" => new JsonObject { ["mappings"] = mappings },
                "_settings" => new JsonObject { ["settings"] = settings },
                "_stats" => new JsonObject { ["primaries"] = new JsonObject { ["docs"] = new JsonObject { ["count"] = index.Documents.Count, ["deleted"] = 0 }, ["store"] = new JsonObject { ["size_in_bytes"] = index.StoreBytes } } },
                "_alias" or "_aliases" => new JsonObject { ["aliases"] = new JsonObject() },
                _ => new JsonObject { ["aliases"] = new JsonObject(), ["mappings"] = mappings, ["settings"] = settings },
            };
        }
        return part == "_stats" ? new JsonObject { ["_shards"] = new JsonObject { ["total"] = indices.Count * 2, ["successful"] = indices.Count, ["failed"] = 0 }, ["indices"] = result } : result;
    }

    private Response Document(IReadOnlyList<EsIndex> indices, string name, string id, bool sourceOnly, bool pretty)
    {
        foreach (var index in indices)
        {
            if (index.Documents.FirstOrDefault(d => d.Id == id) is { } document)
            {
                return sourceOnly
                    ? Json(JsonNode.Parse(document.Source), pretty)
                    : Json(new JsonObject
                    {
                        ["_index"] = index.Name,
                        ["_type"] = Major >= 8 ? null : "_doc",
                        ["_id"] = id,
                        ["_version"] = 1,
                        ["_seq_no"] = index.Documents.ToList().IndexOf(document),
                        ["_primary_term"] = 1,
                        ["found"] = true,
                        ["_source"] = JsonNode.Parse(document.Source),
                    }, pretty);
            }
        }
        return Json(new JsonObject { ["_index"] = name, ["_type"] = Major >= 8 ? null : "_doc", ["_id"] = id, ["found"] = false }, pretty, 404);
    }

    private Response Search(HttpRequest request, string expression, string action, Dictionary<string, string> query, bool pretty)
    {
        var indices = Resolve(expression);
        if (indices is null)
        {
            return IndexNotFound(expression);
        }
        var terms = new List<(string? Field, string Value)>();
        var size = 10;
        var from = 0;
        if (query.TryGetValue("q", out var q) && q.Length > 0)
        {
            terms.AddRange(QueryString(q));
        }
        if (query.TryGetValue("size", out var sizeText) && int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var s))
        {
            size = s;
        }
        if (query.TryGetValue("from", out var fromText) && int.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out var f))
        {
            from = f;
        }
        if (request.Body.Length > 0 && action != "_msearch")
        {
            try
            {
                using var body = AttackerJson.Parse(request.Body, maxDepth: 32);
                if (body.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (body.RootElement.TryGetProperty("size", out var sizeElement) && sizeElement.TryGetInt32(out var bodySize))
                    {
                        size = bodySize;
                    }
                    if (body.RootElement.TryGetProperty("from", out var fromElement) && fromElement.TryGetInt32(out var bodyFrom))
                    {
                        from = bodyFrom;
                    }
                    if (body.RootElement.TryGetProperty("query", out var queryElement))
                    {
                        CollectTerms(queryElement, terms, 0);
                    }
                }
            }
            catch (JsonException ex)
            {
                return Json(Error("parsing_exception", "Failed to parse search request body: " + Truncate(ex.Message, 200), 400), pretty, 400);
            }
        }
        size = Math.Clamp(size, 0, MaxPageSize);
        from = Math.Clamp(from, 0, 10_000);

        var matches = indices.SelectMany(i => i.Documents.Select(d => (Index: i, Document: d)))
            .Where(hit => terms.Count == 0 || terms.All(t => Matches(hit.Document, t.Field, t.Value)))
            .ToList();
        var took = RandomNumberGenerator.GetInt32(1, 9);
        var shards = new JsonObject { ["total"] = indices.Count, ["successful"] = indices.Count, ["skipped"] = 0, ["failed"] = 0 };
        if (action == "_count")
        {
            return Json(new JsonObject { ["count"] = matches.Count, ["_shards"] = shards }, pretty);
        }
        var hits = new JsonArray();
        foreach (var (index, document) in matches.Skip(from).Take(size))
        {
            hits.Add(new JsonObject
            {
                ["_index"] = index.Name,
                ["_type"] = Major >= 8 ? null : "_doc",
                ["_id"] = document.Id,
                ["_score"] = terms.Count == 0 ? 1.0 : 2.302585,
                ["_source"] = JsonNode.Parse(document.Source),
            });
        }
        var result = new JsonObject
        {
            ["took"] = took,
            ["timed_out"] = false,
            ["_shards"] = shards,
            ["hits"] = new JsonObject
            {
                ["total"] = new JsonObject { ["value"] = matches.Count, ["relation"] = "eq" },
                ["max_score"] = matches.Count == 0 ? null : terms.Count == 0 ? 1.0 : 2.302585,
                ["hits"] = hits,
            },
        };
        return Json(action == "_msearch" ? new JsonObject { ["took"] = took, ["responses"] = new JsonArray(result) } : result, pretty);
    }

    /// <summary>Lucene query string, the simple part: <c>field:value</c> and bare words, joined by AND.</summary>
    private static IEnumerable<(string? Field, string Value)> QueryString(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(word => word is not ("AND" or "OR" or "*" or "*:*"))
            .Take(MaxQueryTerms)
            .Select(word => word.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon
                ? ((string?)word[..colon], word[(colon + 1)..].Trim('"', '*'))
                : (null, word.Trim('"', '*')))
            .Where(t => t.Item2.Length > 0);

    /// <summary>Field/value pairs from match, term, prefix, wildcard and query_string clauses at any depth of a bool query.</summary>
    private static void CollectTerms(JsonElement element, List<(string? Field, string Value)> terms, int depth)
    {
        if (depth > 16 || terms.Count >= MaxQueryTerms || element.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var clause in element.EnumerateObject())
        {
            switch (clause.Name)
            {
                case "match" or "term" or "match_phrase" or "prefix" or "wildcard" when clause.Value.ValueKind == JsonValueKind.Object:
                    foreach (var field in clause.Value.EnumerateObject())
                    {
                        var value = field.Value.ValueKind == JsonValueKind.Object
                            ? field.Value.TryGetProperty("query", out var v) || field.Value.TryGetProperty("value", out v) ? v : default
                            : field.Value;
                        if (value.ValueKind is JsonValueKind.String or JsonValueKind.Number && terms.Count < MaxQueryTerms)
                        {
                            terms.Add((field.Name, value.ToString().Trim('*')));
                        }
                    }
                    break;
                case "query_string" or "simple_query_string" when clause.Value.TryGetProperty("query", out var text) && text.ValueKind == JsonValueKind.String:
                    terms.AddRange(QueryString(text.GetString()!).Take(MaxQueryTerms - terms.Count));
                    break;
                case "bool" when clause.Value.ValueKind == JsonValueKind.Object:
                    foreach (var part in clause.Value.EnumerateObject())
                    {
                        if (part.Name is "must" or "filter")
                        {
                            foreach (var item in part.Value.ValueKind == JsonValueKind.Array ? part.Value.EnumerateArray().ToList() : [part.Value])
                            {
                                CollectTerms(item, terms, depth + 1);
                            }
                        }
                    }
                    break;
            }
        }
    }

    private static bool Matches(EsDocument document, string? field, string value)
    {
        if (field is null or "_all" or "*")
        {
            return document.Fields.Values.Any(v => v.Contains(value, StringComparison.OrdinalIgnoreCase));
        }
        var name = field.EndsWith(".keyword", StringComparison.Ordinal) ? field[..^".keyword".Length] : field;
        return document.Fields.TryGetValue(name, out var actual) && actual.Contains(value, StringComparison.OrdinalIgnoreCase);
    }

    private static Dictionary<string, string> Query(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries).Take(32))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : pair[(equals + 1)..];
            try
            {
                result[Uri.UnescapeDataString(name.Replace('+', ' '))] = Uri.UnescapeDataString(value.Replace('+', ' '));
            }
            catch (UriFormatException)
            {
                // An undecodable parameter is ignored, as the server ignores unknown ones.
            }
        }
        return result;
    }

    private static (string Username, string Password)? Credentials(HttpRequest request)
    {
        var header = request.Header("Authorization");
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var buffer = new byte[header.Length];
        if (!Convert.TryFromBase64String(header[6..].Trim(), buffer, out var written))
        {
            return null;
        }
        var decoded = Encoding.UTF8.GetString(buffer, 0, written);
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : (decoded[..colon], decoded[(colon + 1)..]);
    }

    private static JsonObject Error(string type, string reason, int status, Action<JsonObject>? extra = null)
    {
        JsonObject Cause()
        {
            var cause = new JsonObject { ["type"] = type, ["reason"] = reason };
            extra?.Invoke(cause);
            return cause;
        }
        var error = Cause();
        error.Insert(0, "root_cause", new JsonArray(Cause()));
        return new JsonObject { ["error"] = error, ["status"] = status };
    }

    private static Response SecurityError(string reason)
    {
        const string challenge = "Basic realm=\"security\" charset=\"UTF-8\"";
        var body = Error("security_exception", reason, 401, cause => cause["header"] = new JsonObject { ["WWW-Authenticate"] = challenge });
        return new Response(401, EsJson.Write(body, false)) { Headers = [new("WWW-Authenticate", challenge)] };
    }

    private static Response IndexNotFound(string name)
    {
        var index = Truncate(name, 256)!;
        return new Response(404, EsJson.Write(Error("index_not_found_exception", $"no such index [{index}]", 404, cause =>
        {
            cause["resource.type"] = "index_or_alias";
            cause["resource.id"] = index;
            cause["index_uuid"] = "_na_";
            cause["index"] = index;
        }), false));
    }

    private static Response NoHandler(HttpRequest request) =>
        new(400, EsJson.Write(new JsonObject { ["error"] = $"no handler found for uri [{Truncate(request.Target, 512)}] and method [{Truncate(request.Method, 16)}]", ["status"] = 400 }, false));

    private static Response WrongMethod(HttpRequest request, string allowed) =>
        new(405, EsJson.Write(new JsonObject { ["error"] = $"Incorrect HTTP method for uri [{Truncate(request.Target, 512)}] and method [{Truncate(request.Method, 16)}], allowed: [{allowed}]", ["status"] = 405 }, false))
        {
            Headers = [new("Allow", allowed.Replace(" ", "", StringComparison.Ordinal))],
        };

    private static Response Acknowledged(bool pretty) => Json(new JsonObject { ["acknowledged"] = true }, pretty);

    private static Response Json(JsonNode? body, bool pretty, int status = 200)
    {
        // The mapping type is set to null for 8.x rather than left out at each place; 8.x omits it.
        RemoveNullTypes(body);
        return new Response(status, EsJson.Write(body, pretty));
    }

    private static void RemoveNullTypes(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.TryGetPropertyValue("_type", out var type) && type is null)
                {
                    obj.Remove("_type");
                }
                foreach (var (_, child) in obj)
                {
                    RemoveNullTypes(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RemoveNullTypes(child);
                }
                break;
        }
    }

    /// <summary>Netty's layout: the request's protocol version, lower-case content headers, nothing else.</summary>
    private async Task WriteAsync(Stream stream, string version, Response response, bool head, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(response.Body);
        var builder = new StringBuilder(256);
        builder.Append(version).Append(' ').Append(response.Status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Reason(response.Status)).Append("\r\n");
        foreach (var (name, value) in response.Headers)
        {
            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (body.Length > 0 || response.Status != 200)
        {
            builder.Append("content-type: ").Append(response.ContentType).Append("\r\n");
        }
        builder.Append("content-length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        if (Major > 7 || (Major == 7 && Version.Split('.') is { Length: > 1 } parts && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor) && minor >= 14))
        {
            builder.Append("X-elastic-product: Elasticsearch\r\n");
        }
        builder.Append("\r\n");
        await stream.WriteAsync(HttpRequestReader.HeaderEncoding.GetBytes(builder.ToString()), cancellationToken).ConfigureAwait(false);
        if (!head && body.Length > 0)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    };

    private static string? Preview(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, BodyPreviewChars * 4));
        return text.Length > BodyPreviewChars ? text[..BodyPreviewChars] : text;
    }

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..max];
}
