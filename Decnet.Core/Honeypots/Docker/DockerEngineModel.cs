using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Docker;

/// <summary>A container the fake engine knows: the bait ones it "runs", and those attackers create.</summary>
public sealed record FakeContainer(
    string Id,
    string Name,
    string Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Binds,
    bool Privileged,
    DateTimeOffset Created,
    bool Bait)
{
    public string State { get; set; } = Bait ? "running" : "created";
}

/// <summary>An exec instance created on a container.</summary>
public sealed record FakeExec(string Id, string ContainerId, IReadOnlyList<string> Command, bool Tty, string? User)
{
    /// <summary>Set when the exec ran; the CLI reads it back to exit with the same code.</summary>
    public int ExitCode { get; set; }
}

/// <summary>
/// The engine state of one decky's Docker API, shared by its connections (the CLI opens several per command).
/// Bait containers have ids derived from the decky name, so they stay the same across restarts; what
/// attackers create is kept in bounded maps, oldest dropped first.
/// </summary>
public sealed class DockerEngineModel
{
    public const int MaxCreated = 256;

    private readonly ConcurrentDictionary<string, FakeContainer> _containers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeExec> _execs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _createdOrder = new();
    private readonly ConcurrentQueue<string> _execOrder = new();

    public DockerEngineModel(string deckyName, string hostname, DateTimeOffset now)
    {
        Hostname = hostname;
        EngineId = Id(deckyName, "engine")[..36].ToUpperInvariant();
        var bait = new (string Name, string Image, string[] Command, string[] Env, string[] Binds, bool Privileged, int AgeDays)[]
        {
            ("prod-postgres", "postgres:15.4", ["docker-entrypoint.sh", "postgres"],
                ["POSTGRES_USER=app", "POSTGRES_PASSWORD=Pg_pr0d_2023!", "POSTGRES_DB=orders", "PGDATA=/var/lib/postgresql/data"],
                ["/srv/pgdata:/var/lib/postgresql/data"], false, 41),
            ("api-gateway", "registry.corp.local/platform/api-gateway:2.14.1", ["/app/gateway", "--config", "/etc/gateway/config.yaml"],
                ["AWS_ACCESS_KEY_ID=AKIA4QJ7X2M5LBRT6P3K", "AWS_SECRET_ACCESS_KEY=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", "JWT_SIGNING_KEY=7c1f0e9a5b3d4a2e8f6c0b1d9e7a3c5f"],
                ["/etc/gateway:/etc/gateway:ro"], false, 12),
            ("redis-cache", "redis:7.2-alpine", ["docker-entrypoint.sh", "redis-server", "--requirepass", "r3dis-c4che"], [], [], false, 41),
            ("jenkins", "jenkins/jenkins:2.426.1-lts", ["/usr/bin/tini", "--", "/usr/local/bin/jenkins.sh"],
                ["JENKINS_ADMIN_ID=admin", "JENKINS_ADMIN_PASSWORD=J3nk1ns!Adm1n"],
                ["/var/run/docker.sock:/var/run/docker.sock", "jenkins_home:/var/jenkins_home"], true, 87),
        };
        foreach (var (name, image, command, env, binds, privileged, age) in bait)
        {
            var container = new FakeContainer(Id(deckyName, name), name, image, command, env, binds, privileged, now.AddDays(-age).AddHours(-age % 7), Bait: true);
            _containers[container.Id] = container;
        }
    }

    public string Hostname { get; }

    public string EngineId { get; }

    public IEnumerable<FakeContainer> Containers => _containers.Values.OrderByDescending(c => c.Created);

    /// <summary>By full id, unique id prefix or name (with or without the leading slash), as the engine resolves them.</summary>
    public FakeContainer? Find(string reference)
    {
        if (reference.Length == 0)
        {
            return null;
        }
        var name = reference.TrimStart('/');
        if (_containers.TryGetValue(reference, out var exact))
        {
            return exact;
        }
        var byName = _containers.Values.FirstOrDefault(c => c.Name == name);
        if (byName is not null)
        {
            return byName;
        }
        var byPrefix = _containers.Values.Where(c => c.Id.StartsWith(reference, StringComparison.Ordinal)).Take(2).ToList();
        return byPrefix.Count == 1 ? byPrefix[0] : null;
    }

    public FakeContainer Create(string? name, string image, IReadOnlyList<string> command, IReadOnlyList<string> env, IReadOnlyList<string> binds, bool privileged, DateTimeOffset now)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var container = new FakeContainer(id, string.IsNullOrWhiteSpace(name) ? RandomName() : name, image, command, env, binds, privileged, now, Bait: false);
        _containers[id] = container;
        _createdOrder.Enqueue(id);
        while (_createdOrder.Count > MaxCreated && _createdOrder.TryDequeue(out var oldest))
        {
            _containers.TryRemove(oldest, out _);
        }
        return container;
    }

    /// <summary>Removes a container an attacker created; bait containers stay for the next visitor.</summary>
    public bool Remove(FakeContainer container) => !container.Bait && _containers.TryRemove(container.Id, out _);

    public FakeExec CreateExec(FakeContainer container, IReadOnlyList<string> command, bool tty, string? user)
    {
        var exec = new FakeExec(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), container.Id, command, tty, user);
        _execs[exec.Id] = exec;
        _execOrder.Enqueue(exec.Id);
        while (_execOrder.Count > MaxCreated && _execOrder.TryDequeue(out var oldest))
        {
            _execs.TryRemove(oldest, out _);
        }
        return exec;
    }

    public FakeExec? FindExec(string id) => _execs.GetValueOrDefault(id);

    private static string Id(string decky, string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("decnet-docker:" + decky + ":" + name)));

    private static readonly string[] Adjectives = ["admiring", "brave", "eager", "focused", "jolly", "nifty", "quirky", "stoic", "vibrant", "zealous"];
    private static readonly string[] Scientists = ["babbage", "curie", "darwin", "hopper", "lovelace", "noether", "pasteur", "tesla", "turing", "wozniak"];

    private static string RandomName() =>
        Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)] + "_" + Scientists[RandomNumberGenerator.GetInt32(Scientists.Length)];
}
