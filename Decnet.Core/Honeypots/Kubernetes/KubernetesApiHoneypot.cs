using System.Globalization;
using System.Net.Security;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Core.Honeypots.Kubernetes;

public sealed class KubernetesApiHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "k8s";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(6443), new(8080)];

    public IHoneypotService Create(ServiceContext context) => new KubernetesApiHoneypot(context);
}

/// <summary>
/// A kube-apiserver on 6443 over TLS and on 8080 in plain HTTP. Discovery, lists (plain or as kubectl's
/// tables) and objects come from a bait cluster with secrets worth stealing. Bearer tokens and Basic
/// credentials are captured on every request and let in; creating pods (their images, commands, host mounts
/// and privileges), other objects and exec into pods are recorded as intent.
/// Persona <c>auth</c> says who else gets in:
/// <list type="bullet">
/// <item><c>basic</c> (default): a 1.18 apiserver with a basic-auth file and anonymous authentication off.
/// A caller without credentials gets the basic-auth challenge in the plain <c>http.Error</c> form of apiservers
/// up to 1.7 (later ones wrap it in a JSON Status that nmap does not know): nmap's version detection names
/// it "Kubernetes master node httpd", so scanners see the API for what it is and the next request brings a
/// password.</item>
/// <item><c>anonymous</c>: a 1.28 cluster whose RBAC lets <c>system:anonymous</c> read everything.</item>
/// <item><c>rbac</c>: 1.28, anonymous callers get RBAC's 403 outside the public health and version paths.</item>
/// </list>
/// </summary>
public sealed class KubernetesApiHoneypot : IHoneypotService
{
    public const int TlsPort = 6443;
    private const int MaxLogged = 512;

    private static readonly Dictionary<string, (string Kind, bool Namespaced, string Group)> Resources = new(StringComparer.Ordinal)
    {
        ["namespaces"] = ("Namespace", false, ""),
        ["pods"] = ("Pod", true, ""),
        ["secrets"] = ("Secret", true, ""),
        ["configmaps"] = ("ConfigMap", true, ""),
        ["nodes"] = ("Node", false, ""),
        ["services"] = ("Service", true, ""),
        ["serviceaccounts"] = ("ServiceAccount", true, ""),
        ["deployments"] = ("Deployment", true, "apps"),
    };

    /// <summary>Builds a persona version reports on /version; another version borrows its access mode's build.</summary>
    private static readonly Dictionary<string, (string Commit, string BuildDate, string Go)> Builds = new(StringComparer.Ordinal)
    {
        ["v1.18.20"] = ("1f3e19b7beb1cc0110255668c4238ed63dadb7ad", "2021-06-16T12:51:17Z", "go1.13.15"),
        ["v1.28.4"] = ("bae2c62678db2b5053817bc97181fcc2e8388103", "2023-11-15T16:48:54Z", "go1.20.11"),
    };

    private static readonly HashSet<string> PublicPaths = new(StringComparer.Ordinal) { "/version", "/healthz", "/livez", "/readyz", "/version/" };

    private readonly KubernetesCluster _cluster;
    private readonly ApiAccess _access;
    private readonly Lazy<SslStreamCertificateContext> _certificate;

    public KubernetesApiHoneypot(ServiceContext context)
    {
        Context = context;
        _access = context.PersonaValue("auth")?.ToLowerInvariant() switch
        {
            "anonymous" => ApiAccess.Anonymous,
            "rbac" => ApiAccess.Rbac,
            _ => ApiAccess.Basic,
        };
        _cluster = new KubernetesCluster(context.DeckyName, context.Hostname, context.Time.GetUtcNow());
        _certificate = new Lazy<SslStreamCertificateContext>(
            () => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, "k8s"), additionalCertificates: null, offline: true),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ServiceContext Context { get; }

    private enum ApiAccess
    {
        Basic,
        Anonymous,
        Rbac,
    }

    private string DefaultVersion => _access == ApiAccess.Basic ? "v1.18.20" : "v1.28.4";

    private string GitVersion => Context.PersonaValue("version") ?? DefaultVersion;

    public Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken) =>
        GoHttp.ServeAsync(connection, connection.DeclaredPort == TlsPort ? _certificate.Value : null,
            (request, _, _) => Task.FromResult<GoResponse?>(Handle(connection, request)), cancellationToken);

    /// <summary>Audit ids and priority-and-fairness headers came after 1.18; 1.18 sends only its cache rule.</summary>
    private IReadOnlyList<KeyValuePair<string, string>> Headers() => _access == ApiAccess.Basic
        ? [new("Cache-Control", "no-cache, private")]
        :
        [
            new("Audit-Id", Guid.NewGuid().ToString()),
            new("Cache-Control", "no-cache, private"),
            new("X-Kubernetes-Pf-Flowschema-Uid", "8f3e1c2a-5b7d-4e9f-a1c3-5d7e9f1a3b5c"),
            new("X-Kubernetes-Pf-Prioritylevel-Uid", "2b4d6f8a-0c1e-4a3b-9d5f-7e9a1b3c5d7f"),
        ];

    /// <summary>The basic-auth challenge, written as Go's <c>http.Error</c> writes it (nmap's kubernetes match).</summary>
    private static GoResponse Unauthorized() => new(401,
    [
        new("Content-Type", "text/plain; charset=utf-8"),
        new("Www-Authenticate", "Basic realm=\"kubernetes-master\""),
        new("X-Content-Type-Options", "nosniff"),
    ], "Unauthorized\n"u8.ToArray());

    private GoResponse Json(int status, object value) => GoHttp.JsonResponse(status, value, Headers());

    private GoResponse Status(int code, string reason, string message, object? details = null) => Json(code, new Dictionary<string, object?>
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new Dictionary<string, object?>(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["details"] = details ?? new Dictionary<string, object?>(),
        ["code"] = code,
    });

    private GoResponse Handle(HoneypotConnection connection, HttpRequest request)
    {
        connection.Emit("request", GoHttp.RequestFields(request));
        var user = Authenticate(connection, request);
        if (user is null && _access == ApiAccess.Basic)
        {
            return Unauthorized();
        }
        var path = request.Path.Length > 1 ? request.Path.TrimEnd('/') : request.Path;
        if (PublicPaths.Contains(path))
        {
            var build = Builds.GetValueOrDefault(GitVersion, Builds[DefaultVersion]);
            return path == "/version"
                ? Json(200, new { major = "1", minor = GitVersion.TrimStart('v').Split('.').ElementAtOrDefault(1) ?? "28", gitVersion = GitVersion, gitCommit = build.Commit, gitTreeState = "clean", buildDate = build.BuildDate, goVersion = build.Go, compiler = "gc", platform = "linux/amd64" })
                : new GoResponse(200, [.. Headers(), new("Content-Type", "text/plain; charset=utf-8"), new("X-Content-Type-Options", "nosniff")], "ok"u8.ToArray());
        }
        if (user is null && _access == ApiAccess.Rbac)
        {
            return Status(403, "Forbidden", $"forbidden: User \"system:anonymous\" cannot {Verb(request.Method)} path \"{Clip(request.Path)}\"");
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var query = UrlQuery.Parse(request.Query);
        switch (segments)
        {
            case [] when _access == ApiAccess.Basic:
                // 1.18 served no OIDC discovery yet.
                return Json(200, new { paths = new[] { "/api", "/api/v1", "/apis", "/apis/", "/apis/apps", "/apis/apps/v1", "/apis/batch", "/apis/batch/v1", "/apis/rbac.authorization.k8s.io", "/apis/rbac.authorization.k8s.io/v1", "/healthz", "/livez", "/metrics", "/openapi/v2", "/readyz", "/version" } });
            case []:
                return Json(200, new { paths = new[] { "/.well-known/openid-configuration", "/api", "/api/v1", "/apis", "/apis/", "/apis/apps", "/apis/apps/v1", "/apis/batch", "/apis/batch/v1", "/apis/rbac.authorization.k8s.io", "/apis/rbac.authorization.k8s.io/v1", "/healthz", "/livez", "/metrics", "/openapi/v2", "/readyz", "/version" } });
            case ["api"]:
                return Json(200, new { kind = "APIVersions", versions = new[] { "v1" }, serverAddressByClientCIDRs = new[] { new { clientCIDR = "0.0.0.0/0", serverAddress = "10.0.0.10:6443" } } });
            case ["apis"]:
                return Json(200, new
                {
                    kind = "APIGroupList",
                    apiVersion = "v1",
                    groups = new[] { "apps", "batch", "rbac.authorization.k8s.io" }.Select(g => new { name = g, versions = new[] { new { groupVersion = g + "/v1", version = "v1" } }, preferredVersion = new { groupVersion = g + "/v1", version = "v1" } }),
                });
            case ["api", "v1"]:
                return Json(200, ResourceList("v1", ""));
            case ["apis", var group, "v1"] when group is "apps" or "batch" or "rbac.authorization.k8s.io":
                return Json(200, ResourceList(group + "/v1", group));
            case ["api", "v1", ..] or ["apis", _, "v1", ..]:
                return Resource(connection, request, segments[0] == "api" ? segments[2..] : segments[3..], segments[0] == "api" ? "" : segments[1], query);
            default:
                return Status(404, "NotFound", "the server could not find the requested resource");
        }
    }

    /// <summary>Everything below /api/v1 or /apis/group/v1: lists, gets, creates, deletes and pod subresources.</summary>
    private GoResponse Resource(HoneypotConnection connection, HttpRequest request, string[] rest, string group, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query)
    {
        string? ns = null;
        if (rest.Length >= 2 && rest[0] == "namespaces" && group.Length == 0)
        {
            if (rest.Length == 2)
            {
                // /api/v1/namespaces/{ns}: the namespace object itself.
                return request.Method switch
                {
                    "GET" => _cluster.Get("Namespace", null, rest[1]) is { } found ? Json(200, found.Body) : Status(404, "NotFound", $"namespaces \"{Clip(rest[1])}\" not found", new { name = Clip(rest[1]), kind = "namespaces" }),
                    "DELETE" => Delete(connection, "namespaces", null, rest[1]),
                    _ => Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
                };
            }
            ns = rest[1];
            rest = rest[2..];
        }
        else if (rest.Length >= 2 && rest[0] == "namespaces")
        {
            ns = rest[1];
            rest = rest[2..];
        }
        if (rest.Length == 0 || !Resources.TryGetValue(rest[0], out var resource) || resource.Group != group)
        {
            return Status(404, "NotFound", "the server could not find the requested resource");
        }
        var plural = rest[0];
        switch (rest.Length)
        {
            case 1 when request.Method == "GET":
                var items = _cluster.List(resource.Kind, ns);
                return Wants(request, "as=Table") ? Json(200, Table(resource.Kind, items)) : Json(200, ListDocument(resource.Kind, group, items));
            case 1 when request.Method == "POST":
                return Create(connection, request, plural, resource.Kind, ns ?? "default", group);
            case 2 when request.Method == "GET":
                var item = _cluster.Get(resource.Kind, resource.Namespaced ? ns ?? "default" : null, rest[1]);
                if (item is null)
                {
                    return Status(404, "NotFound", $"{plural} \"{Clip(rest[1])}\" not found", new { name = Clip(rest[1]), kind = plural });
                }
                return Wants(request, "as=Table") ? Json(200, Table(resource.Kind, [item])) : Json(200, item.Body);
            case 2 when request.Method == "DELETE":
                return Delete(connection, plural, ns, rest[1]);
            case 3 when plural == "pods" && rest[2] is "exec" or "attach":
                var command = query.TryGetValue("command", out var parts) ? parts.Select(p => p ?? string.Empty).ToList() : [];
                connection.Emit(
                    "exec_attempt",
                    ("namespace", Clip(ns ?? "default")),
                    ("pod", Clip(rest[1])),
                    ("container", Clip(query.TryGetValue("container", out var c) ? c.ToString() : null)),
                    ("command", command.Count > 0 ? Clip(JsonSerializer.Serialize(command)) : null),
                    ("subresource", rest[2]),
                    ("upgrade", Clip(request.Header("Upgrade"))));
                return request.Header("Upgrade") is null
                    ? Status(400, "BadRequest", "Upgrade request required")
                    : Status(500, "InternalError", $"error dialing backend: dial tcp 10.0.0.11:10250: i/o timeout");
            case 3 when plural == "pods" && rest[2] == "log":
                return new GoResponse(200, [.. Headers(), new("Content-Type", "text/plain")],
                    Encoding.UTF8.GetBytes($"{KubernetesCluster.Timestamp(_cluster.Now.AddMinutes(-3))} INFO  server listening on :8080\n{KubernetesCluster.Timestamp(_cluster.Now.AddMinutes(-1))} INFO  GET /healthz 200 0.4ms\n"));
            default:
                return Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        }
    }

    private GoResponse Create(HoneypotConnection connection, HttpRequest request, string plural, string kind, string ns, string group)
    {
        JsonElement body;
        try
        {
            using var document = AttackerJson.Parse(request.Body, maxDepth: 48);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            connection.Emit("bad_request", ("status", "400"), ("error", "create body: " + ex.Message), ("path", request.Path));
            return Status(400, "BadRequest", $"the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {ex.Message}");
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Status(400, "BadRequest", $"the object provided is unrecognized (must be of type {kind})");
        }
        var name = Text(Child(body, "metadata"), "name") ?? Text(Child(body, "metadata"), "generateName") + "x7k2p";
        var spec = kind == "Pod" ? Child(body, "spec") : Child(Child(Child(body, "spec"), "template"), "spec");
        var containers = Items(spec, "containers").Concat(Items(spec, "initContainers")).ToList();
        var images = containers.Select(c => Text(c, "image")).Where(i => i is not null).ToList();
        var commands = containers.Select(c => Strings(c, "command").Concat(Strings(c, "args")).ToList()).Where(c => c.Count > 0).ToList();
        var privileged = containers.Any(c => Child(Child(c, "securityContext"), "privileged").ValueKind == JsonValueKind.True);
        var hostPaths = Items(spec, "volumes").Select(v => Text(Child(v, "hostPath"), "path")).Where(p => p is not null).ToList();
        connection.Emit(
            "resource_create",
            ("kind", kind),
            ("resource", plural),
            ("namespace", Clip(ns)),
            ("name", Clip(name)),
            ("images", images.Count > 0 ? Clip(JsonSerializer.Serialize(images)) : null),
            ("commands", commands.Count > 0 ? Clip(JsonSerializer.Serialize(commands)) : null),
            ("privileged", containers.Count > 0 ? (privileged ? "true" : "false") : null),
            ("host_paths", hostPaths.Count > 0 ? Clip(JsonSerializer.Serialize(hostPaths)) : null),
            ("host_network", Child(spec, "hostNetwork").ValueKind == JsonValueKind.True ? "true" : null),
            ("host_pid", Child(spec, "hostPID").ValueKind == JsonValueKind.True ? "true" : null),
            ("service_account", Clip(Text(spec, "serviceAccountName"))),
            ("body", Clip(Encoding.UTF8.GetString(request.Body, 0, Math.Min(request.Body.Length, MaxLogged)))));

        // The created object as the apiserver returns it: what was sent, plus server-set metadata.
        var created = JsonSerializer.Deserialize<Dictionary<string, object?>>(body.GetRawText()) ?? [];
        var metadata = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["uid"] = Guid.NewGuid().ToString(),
            ["resourceVersion"] = (900_000 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(99_999)).ToString(CultureInfo.InvariantCulture),
            ["creationTimestamp"] = KubernetesCluster.Timestamp(Context.Time.GetUtcNow()),
        };
        created["kind"] = kind;
        created["apiVersion"] = group.Length == 0 ? "v1" : group + "/v1";
        created["metadata"] = metadata;
        if (kind == "Pod")
        {
            created["status"] = new Dictionary<string, object?> { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
        }
        return Json(201, created);
    }

    private GoResponse Delete(HoneypotConnection connection, string plural, string? ns, string name)
    {
        connection.Emit("resource_delete", ("resource", plural), ("namespace", Clip(ns)), ("name", Clip(name)));
        return Json(200, new { kind = "Status", apiVersion = "v1", metadata = new { }, status = "Success", details = new { name = Clip(name), kind = plural, uid = Guid.NewGuid().ToString() } });
    }

    /// <summary>Who the request authenticates as, null for no usable credentials; presented credentials are captured.</summary>
    private static string? Authenticate(HoneypotConnection connection, HttpRequest request)
    {
        var authorization = request.Header("Authorization");
        if (authorization is null)
        {
            return null;
        }
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization[7..].Trim();
            var subject = JwtSubject(token);
            connection.Emit("auth_attempt", ("method", "bearer"), ("token", token.Length > 4096 ? token[..4096] : token), ("username", subject), ("path", request.Path));
            return subject ?? "token-user";
        }
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon >= 0)
                {
                    connection.Emit("auth_attempt", ("method", "basic"), ("username", Clip(decoded[..colon])), ("password", Clip(decoded[(colon + 1)..])), ("path", request.Path));
                    return decoded[..colon];
                }
            }
            catch (FormatException)
            {
                // Not base64: the header is in the request event, there is nothing more to extract.
            }
        }
        return null;
    }

    /// <summary>The <c>sub</c> claim of a JWT (service-account tokens are JWTs), read without verifying it.</summary>
    public static string? JwtSubject(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts[1].Length > 8192)
        {
            return null;
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var document = AttackerJson.Parse(Convert.FromBase64String(payload));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("sub", out var sub) && sub.ValueKind == JsonValueKind.String
                ? Clip(sub.GetString())
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private object ListDocument(string kind, string group, IReadOnlyList<KubeObject> items) => new Dictionary<string, object?>
    {
        ["kind"] = kind + "List",
        ["apiVersion"] = group.Length == 0 ? "v1" : group + "/v1",
        ["metadata"] = new Dictionary<string, object?> { ["resourceVersion"] = "1048576" },
        ["items"] = items.Select(i => i.Body).ToList(),
    };

    /// <summary>The server-side printing kubectl asks for (<c>as=Table</c>): kubectl shows these columns.</summary>
    private object Table(string kind, IReadOnlyList<KubeObject> items)
    {
        string[] columns = kind switch
        {
            "Namespace" => ["Status"],
            "Pod" => ["Ready", "Status", "Restarts"],
            "Secret" => ["Type", "Data"],
            "ConfigMap" => ["Data"],
            "Node" => ["Status", "Roles", "Version"],
            "Deployment" => ["Ready", "Up-to-date", "Available"],
            _ => [],
        };
        var definitions = new List<object> { new { name = "Name", type = "string", format = "name", description = "Name must be unique within a namespace.", priority = 0 } };
        definitions.AddRange(columns.Select(c => new { name = c, type = c is "Restarts" or "Data" or "Up-to-date" or "Available" ? "integer" : "string", format = string.Empty, description = c, priority = 0 }));
        definitions.Add(new { name = "Age", type = "string", format = string.Empty, description = "CreationTimestamp is a timestamp representing the server time when this object was created.", priority = 0 });
        return new
        {
            kind = "Table",
            apiVersion = "meta.k8s.io/v1",
            metadata = new { resourceVersion = "1048576" },
            columnDefinitions = definitions,
            rows = items.Select(i => new
            {
                cells = new object?[] { i.Name }.Concat(i.Cells).Append(Age(_cluster.Now - i.Created)).ToList(),
                @object = new { kind = "PartialObjectMetadata", apiVersion = "meta.k8s.io/v1", metadata = i.Body["metadata"] },
            }).ToList(),
        };
    }

    private static object ResourceList(string groupVersion, string group)
    {
        var resources = Resources.Where(r => r.Value.Group == group).Select(r => new
        {
            name = r.Key,
            singularName = r.Value.Kind.ToLowerInvariant(),
            namespaced = r.Value.Namespaced,
            kind = r.Value.Kind,
            verbs = new[] { "create", "delete", "get", "list", "patch", "update", "watch" },
        }).Cast<object>().ToList();
        if (group.Length == 0)
        {
            resources.Add(new { name = "pods/exec", singularName = string.Empty, namespaced = true, kind = "PodExecOptions", verbs = new[] { "create", "get" } });
            resources.Add(new { name = "pods/log", singularName = string.Empty, namespaced = true, kind = "Pod", verbs = new[] { "get" } });
        }
        return new { kind = "APIResourceList", apiVersion = "v1", groupVersion, resources };
    }

    private static bool Wants(HttpRequest request, string marker) => (request.Header("Accept") ?? string.Empty).Contains(marker, StringComparison.Ordinal);

    private static string Verb(string method) => method switch
    {
        "POST" => "create",
        "DELETE" => "delete",
        "PUT" => "update",
        "PATCH" => "patch",
        _ => "get",
    };

    /// <summary>kubectl's age column: 45s, 12m, 5h, 214d.</summary>
    private static string Age(TimeSpan age) =>
        age.TotalDays >= 2 ? $"{(int)age.TotalDays}d" : age.TotalHours >= 1 ? $"{(int)age.TotalHours}h" : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m" : $"{Math.Max(0, (int)age.TotalSeconds)}s";

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    private static IEnumerable<JsonElement> Items(JsonElement element, string name) =>
        Child(element, name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().Take(32).Where(e => e.ValueKind == JsonValueKind.Object) : [];

    private static string? Text(JsonElement element, string name) =>
        Child(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static IEnumerable<string> Strings(JsonElement element, string name) =>
        Child(element, name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().Take(64).Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!) : [];

    private static string? Clip(string? text) => text is null ? null : text.Length > MaxLogged ? text[..MaxLogged] : text;
}
