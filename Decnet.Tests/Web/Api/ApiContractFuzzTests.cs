using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Web.Api;

/// <summary>
/// A contract fuzz of every <c>/api/v1</c> operation, generated from the master's own OpenAPI document
/// (<c>/openapi/v1.json</c>): random and boundary values for every path, query and header parameter and
/// every request body (well-shaped, mutated, malformed, oversized), sent over the real listener as an
/// admin, a viewer and an anonymous caller. Whatever comes in: never a 500, every error is a
/// ProblemDetails whose status matches, and every answer is one the document declares (or one the
/// framework gives any endpoint: a route that no longer matches, a body it cannot read).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ApiContractFuzzTests : IAsyncLifetime
{
    private const int SamplesPerOperation = 30;
    private const string DeckyName = "fuzz-decky";

    /// <summary>Statuses any endpoint may give for input it never got to see.</summary>
    private static readonly HashSet<int> s_frameworkStatuses = [400, 404, 405, 413, 415, 429];

    private ListeningMaster _master = null!;
    private HttpClient _fuzzer = null!;
    private HttpClient _signIn = null!;
    private readonly Dictionary<string, (string Username, string Password, string? Token)> _callers = [];

    public async ValueTask InitializeAsync()
    {
        _master = ListeningMaster.Start();
        // Guesses from the fuzzer's address slow that address only; sign-ins come from another one.
        _fuzzer = _master.Client(ListeningMaster.RandomLoopback());
        _signIn = _master.Client(ListeningMaster.RandomLoopback());
        await _master.Factory.CreateActiveUserAsync("fuzz-admin", UserRole.Admin);
        await _master.Factory.CreateActiveUserAsync("fuzz-viewer", UserRole.Viewer);
        _callers["admin"] = ("fuzz-admin", "fuzz-admin-password-1", null);
        _callers["viewer"] = ("fuzz-viewer", "fuzz-viewer-password-1", null);
        _callers["anonymous"] = ("", "", null);
        var net = Clients.LabSubnetPrefix();
        var deployed = await _master.Factory.Services.GetRequiredService<DeckyFleet>().DeployAsync("fuzz",
            $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[{DeckyName}]\nip = {net}.40\nservices = redis\n", CancellationToken.None);
        Assert.True(deployed.Succeeded, deployed.Message);
    }

    public async ValueTask DisposeAsync()
    {
        _fuzzer.Dispose();
        _signIn.Dispose();
        await _master.DisposeAsync();
    }

    [Fact]
    public async Task Every_api_v1_operation_survives_random_and_boundary_input_as_admin_viewer_and_anonymous()
    {
        var document = await DocumentAsync();
        var operations = ApiOperation.Read(document);
        // The document really is the whole API: every group is in it.
        foreach (var expected in new[] { "POST /api/v1/auth/login", "PUT /api/v1/config/users/{id}/role", "POST /api/v1/deckies/deploy", "GET /api/v1/logs",
                     "GET /api/v1/attackers/{id}/commands", "POST /api/v1/swarm-updates/push", "DELETE /api/v1/swarm/hosts/{uuid}", "GET /api/v1/stream" })
        {
            Assert.Contains(expected, operations.Select(o => o.Name));
        }

        var violations = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var sent = 0;
        foreach (var caller in _callers.Keys.ToList())
        {
            foreach (var operation in operations)
            {
                await FuzzRequest.For(operation, document).SampleAsync(async request =>
                {
                    var (status, violation) = await SendAsync(caller, operation, request);
                    sent++;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (violation is not null && violations.Count < 200)
                    {
                        violations.Add($"{caller} {operation.Name}: {violation}\n    {request.Describe()}");
                    }
                }, iter: SamplesPerOperation, threads: 1);
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{sent} requests over {operations.Count} operations; statuses: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.True(violations.Count == 0, $"{violations.Count} contract violation(s):\n" + string.Join("\n", violations.Distinct().Take(40))
            + "\nErrors in the master's log:\n" + string.Join("\n", ErrorsInLog().Take(3)));
        // The fuzz reached the handlers, not only the doors: successes and refusals of every kind.
        Assert.Contains(200, statuses.Keys);
        Assert.Contains(400, statuses.Keys);
        Assert.Contains(401, statuses.Keys);
        Assert.Contains(403, statuses.Keys);
        Assert.Contains(404, statuses.Keys);
    }

    /// <summary>The master's logged errors with their stack traces, for the report of a 500.</summary>
    private IEnumerable<string> ErrorsInLog()
    {
        var lines = _master.ReadLog().Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(" ERR]", StringComparison.Ordinal) || lines[i].Contains(" FTL]", StringComparison.Ordinal))
            {
                yield return string.Join("\n", lines.Skip(i).Take(25));
            }
        }
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync("admin", renew: false));
        var response = await _fuzzer.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<string?> TokenAsync(string caller, bool renew)
    {
        var (username, password, token) = _callers[caller];
        if (username.Length == 0 || (token is not null && !renew))
        {
            return token;
        }
        var login = await _signIn.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        Assert.True(login.StatusCode == HttpStatusCode.OK, $"{caller} cannot sign in again: {login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        token = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        _callers[caller] = (username, password, token);
        return token;
    }

    /// <summary>Sends one request and says what, if anything, broke the contract.</summary>
    private async Task<(int Status, string? Violation)> SendAsync(string caller, ApiOperation operation, FuzzRequest fuzz)
    {
        using var request = fuzz.ToMessage(operation.Method);
        if (await TokenAsync(caller, renew: false) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        HttpResponseMessage response;
        try
        {
            response = await _fuzzer.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            return (0, "no answer within 60 s");
        }
        catch (HttpRequestException ex)
        {
            return (0, $"connection failed: {ex.Message}");
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (status == StatusCodes.Unauthorized && caller != "anonymous")
            {
                // The fuzz may have logged this caller out (POST /auth/logout): sign in again.
                await TokenAsync(caller, renew: true);
            }
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                return (status, status == 200 ? null : $"event stream with status {status}");
            }
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            if (status == 500)
            {
                return (status, $"500: {Trim(body)}");
            }
            if (!response.Headers.Contains("Content-Security-Policy"))
            {
                // Kestrel itself refused the request line (414 over 8 KiB, 400 for a NUL in the path):
                // no middleware of ours ran, so there is no ProblemDetails to expect, only a client error.
                return (status, status is >= 400 and < 500 ? null : $"{status} without passing through the application: {Trim(body)}");
            }
            if (status >= 500 && !operation.Responses.Contains(status))
            {
                return (status, $"undeclared {status}: {Trim(body)}");
            }
            // A path that no longer matches any route (an empty segment) meets the fallback policy first.
            var unmatchedAnonymous = caller == "anonymous" && status == StatusCodes.Unauthorized;
            if (!operation.Responses.Contains(status) && !s_frameworkStatuses.Contains(status) && !unmatchedAnonymous)
            {
                return (status, $"status {status} is not in the document ({string.Join(", ", operation.Responses)}): {Trim(body)}");
            }
            return (status, status >= 400 ? ProblemDetailsViolation(status, response, body) : null);
        }
    }

    private static string? ProblemDetailsViolation(int status, HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"{status} as '{response.Content.Headers.ContentType}', not application/problem+json: {Trim(body)}";
        }
        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            if (!problem.TryGetProperty("status", out var code) || code.GetInt32() != status)
            {
                return $"{status} with a ProblemDetails status of {(problem.TryGetProperty("status", out var c) ? c.ToString() : "none")}";
            }
            return problem.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String ? null : $"{status} ProblemDetails without a title";
        }
        catch (JsonException)
        {
            return $"{status} with an unreadable ProblemDetails: {Trim(body)}";
        }
    }

    private static string Trim(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static class StatusCodes
    {
        public const int Unauthorized = 401;
    }

    /// <summary>One operation of the document: method, path template, parameters, body schema, declared statuses.</summary>
    internal sealed record ApiOperation(HttpMethod Method, string Path, IReadOnlyList<ApiParameter> Parameters, JsonElement? Body, IReadOnlySet<int> Responses)
    {
        public string Name => $"{Method.Method} {Path}";

        public static List<ApiOperation> Read(JsonElement document)
        {
            var operations = new List<ApiOperation>();
            foreach (var path in document.GetProperty("paths").EnumerateObject())
            {
                foreach (var operation in path.Value.EnumerateObject())
                {
                    var parameters = operation.Value.TryGetProperty("parameters", out var list)
                        ? list.EnumerateArray().Select(p => new ApiParameter(
                            p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!,
                            p.TryGetProperty("schema", out var schema) ? schema : default)).ToList()
                        : [];
                    JsonElement? body = operation.Value.TryGetProperty("requestBody", out var requestBody)
                        && requestBody.GetProperty("content").TryGetProperty("application/json", out var json)
                        ? json.GetProperty("schema")
                        : null;
                    var responses = operation.Value.GetProperty("responses").EnumerateObject()
                        .Select(r => int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
                    operations.Add(new ApiOperation(new HttpMethod(operation.Name.ToUpperInvariant()), path.Name, parameters, body, responses));
                }
            }
            return operations;
        }
    }

    internal sealed record ApiParameter(string Name, string In, JsonElement Schema);

    /// <summary>One generated request: path, query string, headers and body, ready to send and to print.</summary>
    internal sealed record FuzzRequest(string PathAndQuery, IReadOnlyList<(string Name, string Value)> Headers, string? Body, string ContentType)
    {
        private static readonly string[] s_boundaryText =
        [
            "", " ", "0", "-1", "null", "true", "[]", "{}", "admin", "viewer", DeckyName, "..", "../../etc/passwd", "%00", "\0",
            "'; DROP TABLE users; --", "\" OR \"1\"=\"1", "<script>alert(1)</script>", "\r\nX-Injected: 1", "😀", "\u202Etxt.exe",
            new string('A', 10_000), "00000000-0000-0000-0000-000000000000", "*", "%", "_", "\\", "$(reboot)", "1h", "30m", "-5m", "9999999999d",
            // Plausible values, so that writes also succeed now and then.
            "127.0.0.1", "worker-1", "a-long-enough-password-1", "Admin", "2h",
        ];

        private static readonly string[] s_boundaryIntegers =
        [
            "0", "1", "-1", "2147483647", "-2147483648", "2147483648", "-2147483649", "99999999999999999999", "1.5", "1e3", "", " 7", "0x10", "abc", "NaN",
        ];

        private static readonly Gen<string> s_text = Gen.Frequency(
            (3, Gen.String),
            (3, Gen.OneOf(s_boundaryText)),
            (2, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_.@"], 1, 24]),
            (1, Gen.String[Gen.Char, 1_000, 5_000]));

        private static readonly Gen<string> s_integer = Gen.Frequency(
            (2, Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (2, Gen.Int[-5, 200].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (2, Gen.OneOf(s_boundaryIntegers)),
            (1, s_text));

        private static readonly Gen<string> s_uuid = Gen.Frequency(
            (3, Gen.Guid.Select(g => g.ToString())),
            (1, Gen.Guid.Select(g => g.ToString("B").ToUpperInvariant())),
            (1, Gen.OneOf("00000000-0000-0000-0000-000000000000", "not-a-guid", "", "123")),
            (1, s_text));

        public string Describe() =>
            $"{Cut(PathAndQuery, 300)} ({PathAndQuery.Length} chars){string.Concat(Headers.Select(h => $" [{h.Name}: {h.Value}]"))}" +
            (Body is null ? "" : $" body ({ContentType}, {Body.Length} chars): {Cut(Body, 200)}");

        private static string Cut(string text, int length) => text.Length <= length ? text : text[..length] + "…";

        public HttpRequestMessage ToMessage(HttpMethod method)
        {
            var message = new HttpRequestMessage(method, PathAndQuery);
            foreach (var (name, value) in Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
            if (Body is not null)
            {
                message.Content = new StringContent(Body, Encoding.UTF8);
                message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
            }
            return message;
        }

        public static Gen<FuzzRequest> For(ApiOperation operation, JsonElement document)
        {
            var path = PathGen(operation);
            var query = QueryGen(operation);
            var headers = HeaderGen(operation);
            var body = operation.Body is { } schema ? BodyGen(schema, document) : Gen.Const<(string?, string)>((null, "application/json"));
            return Gen.Select(path, query, headers, body, (p, q, h, b) => new FuzzRequest(p + q, h, b.Item1, b.Item2));
        }

        /// <summary>One value from each generator, in order.</summary>
        private static Gen<IReadOnlyList<T>> All<T>(IEnumerable<Gen<T>> gens) =>
            gens.Aggregate(Gen.Const(System.Collections.Immutable.ImmutableList<T>.Empty),
                (all, next) => Gen.Select(all, next, (list, value) => list.Add(value)))
                .Select(list => (IReadOnlyList<T>)list);

        private static Gen<string> ValueGen(JsonElement schema)
        {
            var types = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("type", out var type)
                ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList() : [type.GetString()]
                : [];
            var format = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("format", out var f) ? f.GetString() : null;
            return format == "uuid" ? s_uuid : types.Contains("integer") ? s_integer : s_text;
        }

        private static Gen<string> PathGen(ApiOperation operation)
        {
            var template = operation.Path;
            var parameters = operation.Parameters.Where(p => p.In == "path").ToList();
            if (parameters.Count == 0)
            {
                return Gen.Const(template);
            }
            return ValueGen(parameters[0].Schema).Array[parameters.Count].Select(values =>
            {
                var built = template;
                for (var i = 0; i < parameters.Count; i++)
                {
                    built = built.Replace("{" + parameters[i].Name + "}", Uri.EscapeDataString(values[i]), StringComparison.Ordinal);
                }
                return built;
            });
        }

        private static Gen<string> QueryGen(ApiOperation operation)
        {
            var parameters = operation.Parameters.Where(p => p.In == "query").ToList();
            if (parameters.Count == 0)
            {
                return Gen.Const("");
            }
            var each = parameters.Select(p => Gen.Frequency<string>(
                (3, ValueGen(p.Schema).Select(v => $"{p.Name}={Uri.EscapeDataString(v)}")),
                (1, Gen.Const("")),
                // The same parameter twice: binding must refuse it, not throw.
                (1, Gen.Select(ValueGen(p.Schema), ValueGen(p.Schema), (a, b) => $"{p.Name}={Uri.EscapeDataString(a)}&{p.Name}={Uri.EscapeDataString(b)}")))).ToArray();
            return All(each).Select(parts =>
            {
                var present = parts.Where(p => p.Length > 0).ToList();
                return present.Count == 0 ? "" : "?" + string.Join('&', present);
            });
        }

        private static Gen<IReadOnlyList<(string, string)>> HeaderGen(ApiOperation operation)
        {
            var parameters = operation.Parameters.Where(p => p.In == "header").ToList();
            if (parameters.Count == 0)
            {
                return Gen.Const<IReadOnlyList<(string, string)>>([]);
            }
            // Header values are what HTTP can carry: printable ASCII.
            var value = Gen.Frequency((2, Gen.String[Gen.Char[' ', '~'], 0, 64]), (1, s_integer.Select(v => new string(v.Where(c => c is >= ' ' and <= '~').ToArray()))));
            return All(parameters.Select(p => value.Select(v => (p.Name, v))))
                .Select(h => (IReadOnlyList<(string, string)>)h);
        }

        private static Gen<(string?, string)> BodyGen(JsonElement schema, JsonElement document)
        {
            var shaped = NodeGen(schema, document, depth: 0).Select(n => n?.ToJsonString());
            return Gen.Frequency(
                (6, shaped.Select(b => (b, "application/json"))),
                (1, Gen.OneOf<string?>("", "{", "{\"a\":", "[1,2", "nul", "\"\\ud800\"", "{\"x\":1}{\"y\":2}", "\u0000\u0001")
                    .Select(b => (b, "application/json"))),
                (1, Gen.OneOf<string?>("[]", "\"text\"", "42", "null", "true").Select(b => (b, "application/json"))),
                (1, Gen.Int[65, 400].Select(d => ((string?)(new string('[', d) + new string(']', d)), "application/json"))),
                (1, Gen.Const(((string?)("{\"pad\":\"" + new string('x', 200_000) + "\"}"), "application/json"))),
                (1, shaped.Select(b => (b, "text/plain"))),
                (1, Gen.Const(((string?)null, "application/json"))));
        }

        private static Gen<JsonNode?> NodeGen(JsonElement schema, JsonElement document, int depth)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                var name = reference.GetString()!.Split('/')[^1];
                return NodeGen(document.GetProperty("components").GetProperty("schemas").GetProperty(name), document, depth);
            }
            if (schema.TryGetProperty("oneOf", out var options))
            {
                return Gen.OneOf(options.EnumerateArray().Select(o => NodeGen(o, document, depth)).ToArray());
            }
            var types = schema.TryGetProperty("type", out var type)
                ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!]
                : ["object"];
            var byType = types.Select(t => t switch
            {
                "object" when depth < 4 => ObjectGen(schema, document, depth),
                "array" when depth < 4 => schema.TryGetProperty("items", out var items)
                    ? NodeGen(items, document, depth + 1).Array[0, 4].Select(a => (JsonNode?)new JsonArray(a.Select(n => n?.DeepClone()).ToArray()))
                    : Gen.Const<JsonNode?>(new JsonArray()),
                "integer" => Gen.Frequency(
                    (2, Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i))),
                    (1, Gen.Long.Select(l => (JsonNode?)JsonValue.Create(l))),
                    (1, Gen.Double.Select(d => (JsonNode?)JsonValue.Create(double.IsFinite(d) ? d : 0))),
                    (1, s_integer.Select(s => (JsonNode?)JsonValue.Create(s)))),
                "boolean" => Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
                "null" => Gen.Const(() => (JsonNode?)null),
                _ => (schema.TryGetProperty("format", out var f) && f.GetString() == "uuid" ? s_uuid : s_text).Select(s => (JsonNode?)JsonValue.Create(s)),
            }).ToArray();
            // Now and then a value of the wrong type altogether.
            var wrong = Gen.OneOf<JsonNode?>(
                Gen.Const<JsonNode?>(JsonValue.Create(12345)),
                Gen.Const<JsonNode?>(JsonValue.Create(true)),
                Gen.Const<JsonNode?>(new JsonObject()),
                s_text.Select(s => (JsonNode?)JsonValue.Create(s)));
            return Gen.Frequency((8, Gen.OneOf(byType)), (1, wrong));
        }

        private static Gen<JsonNode?> ObjectGen(JsonElement schema, JsonElement document, int depth)
        {
            var properties = schema.TryGetProperty("properties", out var p) ? p.EnumerateObject().ToList() : [];
            if (properties.Count == 0)
            {
                return Gen.Const<JsonNode?>(new JsonObject());
            }
            var each = properties.Select(property => Gen.Frequency(
                (6, NodeGen(property.Value, document, depth + 1).Select(v => (property.Name, Present: true, Value: v))),
                // A property left out: required ones are refused, optional ones defaulted.
                (1, Gen.Const((property.Name, Present: false, Value: (JsonNode?)null))))).ToArray();
            return All(each).Select(values =>
            {
                var node = new JsonObject();
                foreach (var (name, present, value) in values)
                {
                    if (present)
                    {
                        node[name] = value?.DeepClone();
                    }
                }
                return (JsonNode?)node;
            });
        }
    }
}
