using System.Buffers.Binary;
using System.Globalization;
using System.Net.Security;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;
using Decnet.Core.Honeypots.Shell;

namespace Decnet.Core.Honeypots.Docker;

public sealed class DockerApiHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "docker_api";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(2375), new(2376)];

    public IHoneypotService Create(ServiceContext context) => new DockerApiHoneypot(context);
}

/// <summary>
/// An exposed Docker Engine API (dockerd 24 with <c>-H tcp://0.0.0.0:2375</c>, and TLS without client
/// verification on 2376). It lists bait containers whose environment holds secrets, and records every
/// attempt to run something as intent: the image, command and host binds of <c>containers/create</c>,
/// the commands of <c>exec</c>, image pulls. Exec and attach answer with the output of the emulated shell,
/// so a <c>docker exec id</c> prints a plausible uid line and the commands land in the attacker's profile.
/// </summary>
public sealed partial class DockerApiHoneypot : IHoneypotService
{
    public const int TlsPort = 2376;
    private const int MaxLogged = 512;

    private readonly DockerEngineModel _model;
    private readonly Lazy<SslStreamCertificateContext> _certificate;

    public DockerApiHoneypot(ServiceContext context)
    {
        Context = context;
        _model = new DockerEngineModel(context.DeckyName, context.Hostname, context.Time.GetUtcNow());
        _certificate = new Lazy<SslStreamCertificateContext>(
            () => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, "docker_api"), additionalCertificates: null, offline: true),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ServiceContext Context { get; }

    public DockerEngineModel Model => _model;

    private string Version => Context.PersonaValue("version") ?? "24.0.7";

    private string ApiVersion => Context.PersonaValue("api_version") ?? "1.43";

    private string KernelVersion => Context.PersonaValue("kernel_version") ?? "5.15.0-91-generic";

    public Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken) =>
        GoHttp.ServeAsync(connection, connection.DeclaredPort == TlsPort ? _certificate.Value : null,
            (request, stream, token) => HandleAsync(connection, request, stream, token), cancellationToken);

    private IReadOnlyList<KeyValuePair<string, string>> EngineHeaders =>
    [
        new("Api-Version", ApiVersion),
        new("Docker-Experimental", "false"),
        new("Ostype", "linux"),
        new("Server", $"Docker/{Version} (linux)"),
    ];

    private GoResponse Json(int status, object value) => GoHttp.JsonResponse(status, value, EngineHeaders);

    private GoResponse Message(int status, string message) => Json(status, new { message });

    private GoResponse Empty(int status) => new(status, EngineHeaders, []);

    private async Task<GoResponse?> HandleAsync(HoneypotConnection connection, HttpRequest request, Stream stream, CancellationToken cancellationToken)
    {
        connection.Emit("request", GoHttp.RequestFields(request));
        var (apiVersion, path) = SplitVersion(request.Path);
        var query = UrlQuery.Parse(request.Query);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = request.Method;

        if (method == "OPTIONS")
        {
            // moby answers every OPTIONS (CORS pre-flight) with an empty 200.
            return Empty(200);
        }
        if (apiVersion is not null && string.CompareOrdinal(Normalise(apiVersion), Normalise(ApiVersion)) > 0)
        {
            return Message(400, $"client version {apiVersion} is too new. Maximum supported API version is {ApiVersion}");
        }

        switch (segments)
        {
            case ["_ping"] when method is "GET" or "HEAD":
                return new GoResponse(200,
                [
                    .. EngineHeaders,
                    new("Builder-Version", "2"),
                    new("Cache-Control", "no-cache, no-store, must-revalidate"),
                    new("Content-Type", "text/plain; charset=utf-8"),
                    new("Pragma", "no-cache"),
                ], method == "HEAD" ? [] : "OK"u8.ToArray());
            case ["version"] when method == "GET":
                return Json(200, VersionDocument());
            case ["info"] when method == "GET":
                return Json(200, InfoDocument());
            case ["containers", "json"] when method == "GET":
                var all = query.TryGetValue("all", out var allValue) && allValue.ToString() is "1" or "true";
                return Json(200, _model.Containers.Where(c => all || c.State == "running").Select(Summary).ToList());
            case ["containers", "create"] when method == "POST":
                return CreateContainer(connection, request, query);
            case ["containers", var reference, var action]:
                return await ContainerActionAsync(connection, request, stream, reference, action, query, cancellationToken).ConfigureAwait(false);
            case ["containers", var reference] when method == "DELETE":
                return RemoveContainer(connection, reference, query);
            case ["exec", var execId, "start"] when method == "POST":
                return await StartExecAsync(connection, request, stream, execId, apiVersion, cancellationToken).ConfigureAwait(false);
            case ["exec", var execId, "json"] when method == "GET":
                return _model.FindExec(execId) is { } exec
                    ? Json(200, new { ID = exec.Id, Running = false, ExitCode = exec.ExitCode, ProcessConfig = new { tty = exec.Tty, entrypoint = exec.Command.FirstOrDefault() ?? string.Empty, arguments = exec.Command.Skip(1), privileged = false }, OpenStdin = false, OpenStderr = true, OpenStdout = true, CanRemove = false, ContainerID = exec.ContainerId, DetachKeys = string.Empty, Pid = 0 })
                    : Message(404, $"No such exec instance: {Clip(execId)}");
            case ["exec", _, "resize"] when method == "POST":
                return Empty(200);
            case ["images", "json"] when method == "GET":
                return Json(200, Images());
            case ["images", "create"] when method == "POST":
                return PullImage(connection, query);
            case ["images", .. var imageName] when method == "GET" && imageName.Length >= 2 && imageName[^1] == "json":
                var name = string.Join('/', imageName[..^1]);
                return Images().Any(i => i.RepoTags.Contains(name) || i.RepoTags.Contains(name + ":latest"))
                    ? Json(200, new { Id = ImageId(name), RepoTags = new[] { name }, Os = "linux", Architecture = "amd64" })
                    : Message(404, $"No such image: {Clip(name)}");
            case ["networks"] when method == "GET":
                return Json(200, Networks());
            case ["volumes"] when method == "GET":
                return Json(200, new { Volumes = new[] { new { Driver = "local", Name = "jenkins_home", Mountpoint = "/var/lib/docker/volumes/jenkins_home/_data", Scope = "local", Labels = (object?)null, Options = (object?)null, CreatedAt = "2025-12-04T09:12:44Z" } }, Warnings = (object?)null });
            case ["swarm"] when method == "GET":
                return Message(503, "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.");
            case ["build"] when method == "POST":
                connection.Emit("image_build", ("tag", Clip(query.TryGetValue("t", out var tag) ? tag.ToString() : null)), ("context_bytes", request.BodyLength.ToString(CultureInfo.InvariantCulture)));
                return Message(500, "failed to read dockerfile: open Dockerfile: no such file or directory");
            default:
                return Message(404, "page not found");
        }
    }

    private GoResponse CreateContainer(HoneypotConnection connection, HttpRequest request, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query)
    {
        JsonElement body;
        try
        {
            using var document = AttackerJson.Parse(request.Body, maxDepth: 32);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            connection.Emit("bad_request", ("status", "400"), ("error", "create body: " + ex.Message), ("path", request.Path));
            return Message(400, "invalid JSON: " + ex.Message);
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Message(400, "invalid JSON: config must be an object");
        }
        var image = Text(body, "Image");
        if (string.IsNullOrWhiteSpace(image))
        {
            return Message(400, "No command specified");
        }
        var host = body.TryGetProperty("HostConfig", out var hc) && hc.ValueKind == JsonValueKind.Object ? hc : default;
        var command = Strings(body, "Cmd");
        var entrypoint = Strings(body, "Entrypoint");
        var env = Strings(body, "Env");
        var binds = Strings(host, "Binds").Concat(Mounts(host)).ToList();
        var privileged = host.ValueKind == JsonValueKind.Object && host.TryGetProperty("Privileged", out var p) && p.ValueKind == JsonValueKind.True;
        var name = query.TryGetValue("name", out var n) ? n.ToString() : null;
        if (name is not null && !ContainerName().IsMatch(name))
        {
            return Message(400, $"Invalid container name ({Clip(name)}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
        var container = _model.Create(name, image, [.. entrypoint, .. command], env, binds, privileged, Context.Time.GetUtcNow());
        connection.Emit(
            "container_create",
            ("container_id", container.Id),
            ("name", container.Name),
            ("image", Clip(image)),
            ("cmd", Clip(JsonSerializer.Serialize(command))),
            ("entrypoint", entrypoint.Count > 0 ? Clip(JsonSerializer.Serialize(entrypoint)) : null),
            ("binds", binds.Count > 0 ? Clip(JsonSerializer.Serialize(binds)) : null),
            ("privileged", privileged ? "true" : "false"),
            ("network_mode", Clip(Text(host, "NetworkMode"))),
            ("pid_mode", Clip(Text(host, "PidMode"))),
            ("cap_add", Strings(host, "CapAdd") is { Count: > 0 } caps ? Clip(JsonSerializer.Serialize(caps)) : null),
            ("env", env.Count > 0 ? Clip(JsonSerializer.Serialize(env.Take(16))) : null));
        return Json(201, new { Id = container.Id, Warnings = Array.Empty<string>() });
    }

    private async Task<GoResponse?> ContainerActionAsync(HoneypotConnection connection, HttpRequest request, Stream stream, string reference, string action, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query, CancellationToken cancellationToken)
    {
        var container = _model.Find(reference);
        if (container is null)
        {
            return Message(404, $"No such container: {Clip(reference)}");
        }
        switch (action)
        {
            case "json" when request.Method == "GET":
                return Json(200, Inspect(container));
            case "start" when request.Method == "POST":
                connection.Emit("container_start", ("container_id", container.Id), ("image", Clip(container.Image)), ("cmd", Clip(JsonSerializer.Serialize(container.Command))));
                if (container.State == "running")
                {
                    return Empty(304);
                }
                container.State = "running";
                return Empty(204);
            case "stop" or "kill" or "restart" or "pause" or "unpause" when request.Method == "POST":
                connection.Emit("container_" + action, ("container_id", container.Id), ("image", Clip(container.Image)));
                if (!container.Bait)
                {
                    container.State = action is "stop" or "kill" ? "exited" : "running";
                }
                return Empty(204);
            case "wait" when request.Method == "POST":
                return Json(200, new { Error = (object?)null, StatusCode = 0 });
            case "resize" when request.Method == "POST":
                return Empty(200);
            case "logs" when request.Method == "GET":
                return new GoResponse(200, [.. EngineHeaders, new("Content-Type", "application/vnd.docker.raw-stream")], []);
            case "top" when request.Method == "GET":
                return Json(200, new { Titles = new[] { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD" }, Processes = new[] { new[] { "root", "2841", "2819", "0", "Mar02", "?", "00:00:41", string.Join(' ', container.Command) } } });
            case "exec" when request.Method == "POST":
                return CreateExec(connection, request, container);
            case "attach" when request.Method == "POST":
                connection.Emit("container_attach", ("container_id", container.Id), ("image", Clip(container.Image)));
                var output = RunShell(connection, container, container.Command, user: null, out _);
                await HijackAsync(request, stream, output, tty: false, multiplexedType: false, cancellationToken).ConfigureAwait(false);
                return null;
            default:
                return Message(404, "page not found");
        }
    }

    private GoResponse RemoveContainer(HoneypotConnection connection, string reference, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query)
    {
        var container = _model.Find(reference);
        if (container is null)
        {
            return Message(404, $"No such container: {Clip(reference)}");
        }
        var force = query.TryGetValue("force", out var f) && f.ToString() is "1" or "true";
        connection.Emit("container_remove", ("container_id", container.Id), ("image", Clip(container.Image)), ("force", force ? "true" : "false"));
        if (container.State == "running" && !force)
        {
            return Message(409, $"You cannot remove a running container {container.Id}. Stop the container before attempting removal or force remove");
        }
        _model.Remove(container);
        return Empty(204);
    }

    private GoResponse CreateExec(HoneypotConnection connection, HttpRequest request, FakeContainer container)
    {
        JsonElement body;
        try
        {
            using var document = AttackerJson.Parse(request.Body, maxDepth: 16);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Message(400, "invalid JSON: " + ex.Message);
        }
        var command = Strings(body, "Cmd");
        if (command.Count == 0)
        {
            return Message(400, "No exec command specified");
        }
        var tty = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("Tty", out var t) && t.ValueKind == JsonValueKind.True;
        var user = Text(body, "User");
        var privileged = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("Privileged", out var p) && p.ValueKind == JsonValueKind.True;
        var exec = _model.CreateExec(container, command, tty, string.IsNullOrEmpty(user) ? null : user);
        connection.Emit(
            "exec_create",
            ("exec_id", exec.Id),
            ("container_id", container.Id),
            ("image", Clip(container.Image)),
            ("cmd", Clip(JsonSerializer.Serialize(command))),
            ("user", Clip(exec.User)),
            ("privileged", privileged ? "true" : "false"),
            ("tty", tty ? "true" : "false"));
        return Json(201, new { Id = exec.Id });
    }

    private async Task<GoResponse?> StartExecAsync(HoneypotConnection connection, HttpRequest request, Stream stream, string execId, string? apiVersion, CancellationToken cancellationToken)
    {
        var exec = _model.FindExec(execId);
        var container = exec is null ? null : _model.Find(exec.ContainerId);
        if (exec is null || container is null)
        {
            return Message(404, $"No such exec instance: {Clip(execId)}");
        }
        var output = RunShell(connection, container, exec.Command, exec.User, out var exitCode);
        exec.ExitCode = exitCode;
        connection.Emit("exec_start", ("exec_id", exec.Id), ("container_id", container.Id), ("cmd", Clip(JsonSerializer.Serialize(exec.Command))), ("exit_code", exitCode.ToString(CultureInfo.InvariantCulture)));
        var detach = false;
        try
        {
            using var body = AttackerJson.Parse(request.Body.Length > 0 ? request.Body : "{}"u8.ToArray());
            detach = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("Detach", out var d) && d.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            // An unreadable start body is treated as an attached start, as the engine's defaults do.
        }
        if (detach)
        {
            return Empty(200);
        }
        var multiplexed = !exec.Tty && string.CompareOrdinal(Normalise(apiVersion ?? ApiVersion), Normalise("1.42")) >= 0;
        await HijackAsync(request, stream, output, exec.Tty, multiplexed, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// The engine's hijacked stream: a 101 (or 200 without an Upgrade header), then the output, framed per
    /// stream (8-byte header: stream id, three zeros, big-endian length) unless a TTY was asked for; the
    /// connection then ends, which the client reads as the process exiting.
    /// </summary>
    private static async Task HijackAsync(HttpRequest request, Stream stream, string output, bool tty, bool multiplexedType, CancellationToken cancellationToken)
    {
        var contentType = multiplexedType ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
        var head = request.Header("Upgrade") is not null
            ? $"HTTP/1.1 101 UPGRADED\r\nContent-Type: {contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            : $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        var payload = Encoding.UTF8.GetBytes(tty ? output.Replace("\n", "\r\n", StringComparison.Ordinal) : output);
        if (payload.Length > 0)
        {
            if (!tty)
            {
                var header = new byte[8];
                header[0] = 1;
                BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)payload.Length);
                await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            }
            await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs an exec or container command through the emulated shell of a container built from the image's distro.</summary>
    private string RunShell(HoneypotConnection connection, FakeContainer container, IReadOnlyList<string> command, string? user, out int exitCode)
    {
        exitCode = 0;
        if (command.Count == 0)
        {
            return string.Empty;
        }
        var slug = container.Image.Contains("alpine", StringComparison.OrdinalIgnoreCase) ? "alpine"
            : container.Image.Contains("ubuntu", StringComparison.OrdinalIgnoreCase) ? "ubuntu22" : "debian";
        var hostname = container.Id[..12];
        var shellUser = string.IsNullOrEmpty(user) || user.StartsWith('0') ? "root" : user.Split(':')[0];
        if (shellUser.Length > 32 || !shellUser.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            shellUser = "root";
        }
        var interpreter = new CommandInterpreter(new ShellContext
        {
            Hostname = hostname,
            User = shellUser,
            Distro = PersonaFileSystem.Distro(slug),
            FileSystem = new ShellFileSystem(PersonaFileSystem.Build(hostname, slug, shellUser == "root" ? [] : [shellUser], Context.Time.GetUtcNow()), Context.Time, maxOverlayBytes: 256 * 1024, maxOverlayEntries: 200),
            Time = Context.Time,
            RemoteIp = connection.RemoteIp,
            Emit = (type, fields) => connection.Emit(type, [.. fields, ("container_id", container.Id)]),
        });
        var line = command.Count >= 3 && command[0] is "sh" or "bash" or "ash" or "/bin/sh" or "/bin/bash" or "/bin/ash" && command[1] == "-c"
            ? command[2]
            : string.Join(' ', command.Select(a => a.Contains(' ', StringComparison.Ordinal) ? "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : a));
        if (line.Length > 8192)
        {
            line = line[..8192];
        }
        var result = interpreter.Execute(line);
        exitCode = result.ExitCode;
        return result.Output.Length > 64 * 1024 ? result.Output[..(64 * 1024)] : result.Output;
    }

    private GoResponse PullImage(HoneypotConnection connection, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query)
    {
        var image = query.TryGetValue("fromImage", out var from) ? from.ToString() : string.Empty;
        var tag = query.TryGetValue("tag", out var t) && t.ToString().Length > 0 ? t.ToString() : "latest";
        connection.Emit("image_pull", ("image", Clip(image)), ("tag", Clip(tag)));
        if (image.Length == 0)
        {
            return Message(400, "invalid reference format");
        }
        var layer = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(image + ":" + tag)))[..12];
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(layer)));
        (string Status, string? Id)[] lines =
        [
            ($"Pulling from {(image.Contains('/', StringComparison.Ordinal) ? image : "library/" + image)}", tag),
            ("Pulling fs layer", layer),
            ("Download complete", layer),
            ("Pull complete", layer),
            ("Digest: " + digest, null),
            ($"Status: Downloaded newer image for {image}:{tag}", null),
        ];
        var body = string.Concat(lines.Select(l => (l.Id is null ? JsonSerializer.Serialize(new { status = l.Status }) : JsonSerializer.Serialize(new { status = l.Status, id = l.Id })) + "\r\n"));
        return new GoResponse(200, [.. EngineHeaders, new("Content-Type", "application/json")], Encoding.UTF8.GetBytes(body));
    }

    private object VersionDocument() => new
    {
        Platform = new { Name = "Docker Engine - Community" },
        Components = new object[]
        {
            new { Name = "Engine", Version, Details = new { ApiVersion, Arch = "amd64", BuildTime = "2023-10-26T09:07:41.000000000+00:00", Experimental = "false", GitCommit = "311b9ff", GoVersion = "go1.20.10", KernelVersion, MinAPIVersion = "1.12", Os = "linux" } },
            new { Name = "containerd", Version = "1.6.26", Details = new { GitCommit = "3dd1e886e55dd695541fdcd67420c2888645a495" } },
            new { Name = "runc", Version = "1.1.10", Details = new { GitCommit = "v1.1.10-0-g18a0cb0" } },
            new { Name = "docker-init", Version = "0.19.0", Details = new { GitCommit = "de40ad0" } },
        },
        Version,
        ApiVersion,
        MinAPIVersion = "1.12",
        GitCommit = "311b9ff",
        GoVersion = "go1.20.10",
        Os = "linux",
        Arch = "amd64",
        KernelVersion,
        BuildTime = "2023-10-26T09:07:41.000000000+00:00",
    };

    private object InfoDocument()
    {
        var containers = _model.Containers.ToList();
        return new
        {
            ID = _model.EngineId,
            Containers = containers.Count,
            ContainersRunning = containers.Count(c => c.State == "running"),
            ContainersPaused = 0,
            ContainersStopped = containers.Count(c => c.State != "running"),
            Images = Images().Count,
            Driver = "overlay2",
            DriverStatus = new[] { new[] { "Backing Filesystem", "extfs" }, new[] { "Supports d_type", "true" }, new[] { "Using metacopy", "false" }, new[] { "Native Overlay Diff", "true" }, new[] { "userxattr", "false" } },
            Plugins = new { Volume = new[] { "local" }, Network = new[] { "bridge", "host", "ipvlan", "macvlan", "null", "overlay" }, Authorization = (object?)null, Log = new[] { "awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "logentries", "splunk", "syslog" } },
            MemoryLimit = true,
            SwapLimit = false,
            CpuCfsPeriod = true,
            CpuCfsQuota = true,
            CPUShares = true,
            CPUSet = true,
            PidsLimit = true,
            IPv4Forwarding = true,
            BridgeNfIptables = true,
            BridgeNfIp6tables = true,
            Debug = false,
            NFd = 58,
            OomKillDisable = false,
            NGoroutines = 71,
            SystemTime = Context.Time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            LoggingDriver = "json-file",
            CgroupDriver = "systemd",
            CgroupVersion = "2",
            NEventsListener = 0,
            KernelVersion,
            OperatingSystem = "Ubuntu 22.04.3 LTS",
            OSVersion = "22.04",
            OSType = "linux",
            Architecture = "x86_64",
            IndexServerAddress = "https://index.docker.io/v1/",
            RegistryConfig = new { AllowNondistributableArtifactsCIDRs = (object?)null, AllowNondistributableArtifactsHostnames = (object?)null, InsecureRegistryCIDRs = new[] { "127.0.0.0/8" }, IndexConfigs = new Dictionary<string, object> { ["docker.io"] = new { Name = "docker.io", Mirrors = Array.Empty<string>(), Secure = true, Official = true }, ["registry.corp.local"] = new { Name = "registry.corp.local", Mirrors = Array.Empty<string>(), Secure = false, Official = false } }, Mirrors = (object?)null },
            NCPU = 8,
            MemTotal = 33_531_006_976L,
            GenericResources = (object?)null,
            DockerRootDir = "/var/lib/docker",
            HttpProxy = string.Empty,
            HttpsProxy = string.Empty,
            NoProxy = string.Empty,
            Name = _model.Hostname,
            Labels = Array.Empty<string>(),
            ExperimentalBuild = false,
            ServerVersion = Version,
            Runtimes = new Dictionary<string, object> { ["io.containerd.runc.v2"] = new { path = "runc" }, ["runc"] = new { path = "runc" } },
            DefaultRuntime = "runc",
            Swarm = new { NodeID = string.Empty, NodeAddr = string.Empty, LocalNodeState = "inactive", ControlAvailable = false, Error = string.Empty, RemoteManagers = (object?)null },
            LiveRestoreEnabled = false,
            Isolation = string.Empty,
            InitBinary = "docker-init",
            ContainerdCommit = new { ID = "3dd1e886e55dd695541fdcd67420c2888645a495", Expected = "3dd1e886e55dd695541fdcd67420c2888645a495" },
            RuncCommit = new { ID = "v1.1.10-0-g18a0cb0", Expected = "v1.1.10-0-g18a0cb0" },
            InitCommit = new { ID = "de40ad0", Expected = "de40ad0" },
            SecurityOptions = new[] { "name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns" },
            Warnings = new[] { "WARNING: API is accessible on http://0.0.0.0:2375 without encryption.\n         Access to the remote API is equivalent to root access on the host. Refer\n         to the 'Docker daemon attack surface' section in the documentation for\n         more information: https://docs.docker.com/go/attack-surface/" },
        };
    }

    private object Summary(FakeContainer container) => new
    {
        Id = container.Id,
        Names = new[] { "/" + container.Name },
        Image = container.Image,
        ImageID = ImageId(container.Image),
        Command = string.Join(' ', container.Command),
        Created = container.Created.ToUnixTimeSeconds(),
        Ports = container.Name == "prod-postgres" ? new object[] { new { IP = "0.0.0.0", PrivatePort = 5432, PublicPort = 5432, Type = "tcp" } } : [],
        Labels = new Dictionary<string, string>(),
        State = container.State,
        Status = container.State == "running" ? "Up " + HumanDuration(Context.Time.GetUtcNow() - container.Created) : "Created",
        HostConfig = new { NetworkMode = "default" },
        NetworkSettings = new { Networks = new { bridge = new { IPAddress = "172.17.0." + (2 + (container.Id[0] % 20)), Gateway = "172.17.0.1", IPPrefixLen = 16, MacAddress = "02:42:ac:11:00:0" + (2 + (container.Id[0] % 8)) } } },
        Mounts = container.Binds.Select(b => b.Split(':')).Where(p => p.Length >= 2).Select(p => new { Type = p[0].StartsWith('/') ? "bind" : "volume", Source = p[0], Destination = p[1], Mode = p.Length > 2 ? p[2] : string.Empty, RW = p.Length < 3 || p[2] != "ro", Propagation = "rprivate" }).ToList(),
    };

    private object Inspect(FakeContainer container)
    {
        var started = container.State == "running" ? container.Created.AddSeconds(1) : DateTimeOffset.UnixEpoch;
        return new
        {
            Id = container.Id,
            Created = container.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            Path = container.Command.FirstOrDefault() ?? string.Empty,
            Args = container.Command.Skip(1).ToList(),
            State = new { Status = container.State, Running = container.State == "running", Paused = false, Restarting = false, OOMKilled = false, Dead = false, Pid = container.State == "running" ? 2841 + (container.Id[1] % 900) : 0, ExitCode = 0, Error = string.Empty, StartedAt = started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), FinishedAt = "0001-01-01T00:00:00Z" },
            Image = ImageId(container.Image),
            ResolvConfPath = $"/var/lib/docker/containers/{container.Id}/resolv.conf",
            HostnamePath = $"/var/lib/docker/containers/{container.Id}/hostname",
            HostsPath = $"/var/lib/docker/containers/{container.Id}/hosts",
            LogPath = $"/var/lib/docker/containers/{container.Id}/{container.Id}-json.log",
            Name = "/" + container.Name,
            RestartCount = 0,
            Driver = "overlay2",
            Platform = "linux",
            MountLabel = string.Empty,
            ProcessLabel = string.Empty,
            AppArmorProfile = container.Privileged ? "unconfined" : "docker-default",
            HostConfig = new { Binds = container.Binds, Privileged = container.Privileged, NetworkMode = "default", RestartPolicy = new { Name = container.Bait ? "unless-stopped" : "no", MaximumRetryCount = 0 }, LogConfig = new { Type = "json-file", Config = new Dictionary<string, string>() } },
            Config = new { Hostname = container.Id[..12], Domainname = string.Empty, User = string.Empty, Tty = false, OpenStdin = false, Env = container.Env, Cmd = container.Command, Image = container.Image, WorkingDir = string.Empty, Entrypoint = (object?)null, Labels = new Dictionary<string, string>() },
            NetworkSettings = new { Bridge = string.Empty, SandboxID = container.Id[..12] + container.Id[20..32], IPAddress = "172.17.0." + (2 + (container.Id[0] % 20)), Gateway = "172.17.0.1", IPPrefixLen = 16, MacAddress = "02:42:ac:11:00:0" + (2 + (container.Id[0] % 8)) },
        };
    }

    private sealed record ImageSummary(int Containers, long Created, string Id, object? Labels, string ParentId, IReadOnlyList<string> RepoDigests, IReadOnlyList<string> RepoTags, int SharedSize, long Size, long VirtualSize);

    private static List<ImageSummary> Images() =>
    [
        Image(["postgres:15.4"], 412_586_231, 1_693_526_400),
        Image(["registry.corp.local/platform/api-gateway:2.14.1"], 98_311_004, 1_704_067_200),
        Image(["redis:7.2-alpine"], 40_982_311, 1_699_401_600),
        Image(["jenkins/jenkins:2.426.1-lts"], 473_103_512, 1_700_006_400),
        Image(["alpine:3.18", "alpine:latest"], 7_333_381, 1_691_452_800),
    ];

    private static ImageSummary Image(IReadOnlyList<string> tags, long size, long created)
    {
        var id = ImageId(tags[0]);
        return new ImageSummary(-1, created, id, null, string.Empty, [tags[0].Split(':')[0] + "@sha256:" + id[7..]], tags, -1, size, size);
    }

    private static List<object> Networks() =>
    [
        new { Name = "bridge", Id = "5f1c0b6e2d8a4f3b9c7e1a0d2b4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d", Created = "2025-11-03T08:14:22.417193615Z", Scope = "local", Driver = "bridge", EnableIPv6 = false, IPAM = new { Driver = "default", Options = (object?)null, Config = new[] { new { Subnet = "172.17.0.0/16", Gateway = "172.17.0.1" } } }, Internal = false, Attachable = false, Ingress = false },
        new { Name = "host", Id = "8e3a1c5b7d9f2e4a6c8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a", Created = "2025-11-03T08:14:22.399310102Z", Scope = "local", Driver = "host", EnableIPv6 = false, IPAM = new { Driver = "default", Options = (object?)null, Config = Array.Empty<object>() }, Internal = false, Attachable = false, Ingress = false },
    ];

    private static string ImageId(string image) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("image:" + image)));

    /// <summary>The engine's "Up 6 weeks" wording (go-units HumanDuration).</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < 1)
        {
            return "Less than a second";
        }
        if (seconds == 1)
        {
            return "1 second";
        }
        if (seconds < 60)
        {
            return $"{seconds} seconds";
        }
        var minutes = (long)d.TotalMinutes;
        if (minutes == 1)
        {
            return "About a minute";
        }
        if (minutes < 60)
        {
            return $"{minutes} minutes";
        }
        var hours = (long)Math.Round(d.TotalHours);
        if (hours == 1)
        {
            return "About an hour";
        }
        if (hours < 48)
        {
            return $"{hours} hours";
        }
        if (hours < 24 * 7 * 2)
        {
            return $"{hours / 24} days";
        }
        if (hours < 24 * 30 * 2)
        {
            return $"{hours / 24 / 7} weeks";
        }
        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24 / 30} months";
        }
        return $"{hours / 24 / 365} years";
    }

    private static (string? Version, string Path) SplitVersion(string path)
    {
        var match = VersionPrefix().Match(path);
        return match.Success ? (match.Groups[1].Value, path[match.Length..]) : (null, path);
    }

    /// <summary>"1.9" vs "1.43": padded so ordinal comparison orders API versions.</summary>
    private static string Normalise(string version)
    {
        var parts = version.Split('.');
        return string.Join('.', parts.Select(p => p.PadLeft(4, '0')));
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A string or an array of strings (Cmd and Entrypoint accept both), at most 64 items.</summary>
    private static List<string> Strings(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return [];
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array => [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Take(64).Select(v => v.GetString()!)],
            _ => [],
        };
    }

    /// <summary>HostConfig.Mounts entries as "source:target" like Binds.</summary>
    private static IEnumerable<string> Mounts(JsonElement host)
    {
        if (host.ValueKind != JsonValueKind.Object || !host.TryGetProperty("Mounts", out var mounts) || mounts.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return mounts.EnumerateArray().Take(32).Where(m => m.ValueKind == JsonValueKind.Object)
            .Select(m => $"{Text(m, "Source")}:{Text(m, "Target")}");
    }

    private static string? Clip(string? text) => text is null ? null : text.Length > MaxLogged ? text[..MaxLogged] : text;

    [GeneratedRegex(@"^/v(\d+\.\d+)(?=/|$)")]
    private static partial Regex VersionPrefix();

    [GeneratedRegex(@"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")]
    private static partial Regex ContainerName();
}
