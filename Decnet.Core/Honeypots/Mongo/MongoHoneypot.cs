using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Mongo;

public sealed class MongoHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "mongodb";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(27017)];

    public IHoneypotService Create(ServiceContext context) => new MongoHoneypot(context);
}

/// <summary>
/// A MongoDB 7.0 mongod. By default it runs without access control, the misconfiguration ransom crews
/// scan for: listDatabases shows bait databases whose documents can be read, and every write or drop is
/// logged as intent (nothing changes). With persona <c>auth=scram</c> every data command needs a login.
/// Either way SCRAM-SHA-1 and SCRAM-SHA-256 conversations are captured whole, ready for offline cracking;
/// logins listed in <c>users</c> succeed.
/// </summary>
public sealed class MongoHoneypot : IHoneypotService
{
    public const string DefaultVersion = "7.0.14";

    /// <summary>Largest message read; real clients' commands are far smaller, bulk inserts are not worth more.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    private const int MaxMessages = 2000;
    private const int MaxBatch = 101;
    private const int Sha1Iterations = 10_000;
    private const int Sha256Iterations = 15_000;
    private const int ArgumentsLogged = 512;

    // Commands a server with access control answers before login.
    private static readonly HashSet<string> PublicCommands = new(StringComparer.Ordinal)
    {
        "hello", "isMaster", "ismaster", "buildInfo", "buildinfo", "ping", "saslStart", "saslContinue", "authenticate",
        "logout", "endSessions", "whatsmyuri", "connectionStatus", "getnonce",
    };

    private static readonly HashSet<string> WriteCommands = new(StringComparer.Ordinal)
    {
        "insert", "update", "delete", "drop", "dropDatabase", "create", "createIndexes", "dropIndexes", "findAndModify",
        "renameCollection", "createUser", "dropUser", "updateUser", "dropAllUsersFromDatabase", "grantRolesToUser", "shutdown",
        "setParameter", "eval", "$eval", "mapReduce",
    };

    private static int _connectionIds = RandomNumberGenerator.GetInt32(1, 5000);
    private static int _requestIds = RandomNumberGenerator.GetInt32(1, 1 << 20);

    private readonly byte[] _saltSecret = RandomNumberGenerator.GetBytes(32);
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly Lazy<IReadOnlyList<MongoDatabase>> _databases;
    private readonly DateTimeOffset _started;

    public MongoHoneypot(ServiceContext context)
    {
        Context = context;
        _users = PersonaCredentials.Parse(context.PersonaValue("users"));
        RequiresAuth = (context.PersonaValue("auth") ?? "none").Trim().ToLowerInvariant() is "scram" or "required" or "true";
        _databases = new Lazy<IReadOnlyList<MongoDatabase>>(() => MongoBait.For(context.Hostname));
        // A mongod that was "started" just now is a tell: claim a few weeks of uptime.
        _started = context.Time.GetUtcNow().AddSeconds(-RandomNumberGenerator.GetInt32(86_400 * 3, 86_400 * 40));
    }

    public ServiceContext Context { get; }

    public string Version => Context.PersonaValue("version") ?? DefaultVersion;

    public bool RequiresAuth { get; }

    private sealed class Session(int connectionId)
    {
        public int ConnectionId { get; } = connectionId;
        public bool HelloLogged { get; set; }
        public string? User { get; set; }
        public ScramConversation? Conversation { get; set; }
    }

    private sealed record ScramConversation(ScramAlgorithm Algorithm, string Database, ScramClientFirst First, byte[] Salt, int Iterations, string ServerFirst, string CombinedNonce);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client reset the connection: an ordinary end, not a fault.
            connection.SetDisconnectDetails(("peer_reset", "true"));
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, CancellationToken ct)
    {
        var session = new Session(Interlocked.Increment(ref _connectionIds));
        var stream = connection.Stream;
        var header = new byte[MongoWire.HeaderLength];
        for (var i = 0; i < MaxMessages; i++)
        {
            if (!await FrameReader.ReadExactlyAsync(stream, header, ct).ConfigureAwait(false))
            {
                return;
            }
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            var requestId = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            var opCode = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
            if (length is < MongoWire.HeaderLength or > MaxMessageBytes)
            {
                connection.Emit("protocol_error", ("error", "message length out of bounds"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            var body = await FrameReader.ReadFrameAsync(stream, length - MongoWire.HeaderLength, ct).ConfigureAwait(false);
            if (body is null)
            {
                return;
            }
            var command = MongoWire.ParseCommand(requestId, opCode, body);
            if (command is null)
            {
                // Legacy opcodes were removed in 6.0 and compression was never offered: mongod hangs up.
                connection.Emit("protocol_error",
                    ("error", opCode is MongoOpCode.Msg or MongoOpCode.Query ? "malformed message" : "unsupported opcode"),
                    ("opcode", opCode.ToString(CultureInfo.InvariantCulture)),
                    ("length", length.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            var reply = Execute(connection, session, command, length);
            if (command.MoreToCome)
            {
                continue;
            }
            var responseId = Interlocked.Increment(ref _requestIds);
            var bytes = command.OpCode == MongoOpCode.Query
                ? MongoWire.QueryReply(responseId, requestId, reply)
                : MongoWire.MsgReply(responseId, requestId, reply);
            await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
    }

    private BsonDocument Execute(HoneypotConnection connection, Session session, MongoCommand command, int length)
    {
        var name = command.Name;
        if (name is "hello" or "isMaster" or "ismaster")
        {
            return Hello(connection, session, command);
        }
        EmitCommand(connection, session, command, length);
        if (RequiresAuth && session.User is null && !PublicCommands.Contains(name))
        {
            // Legacy OP_QUERY clients (old drivers, scanners) get the wording servers of their era used.
            return command.OpCode == MongoOpCode.Query
                ? Error(13, "Unauthorized", $"not authorized on {Truncate(command.Database, 64)} to execute command {{ {Truncate(name, 64)}: {LegacyValue(command.Body[0].Value)} }}")
                : Error(13, "Unauthorized", $"Command {Truncate(name, 64)} requires authentication");
        }
        if (WriteCommands.Contains(name))
        {
            return Write(connection, session, command);
        }
        var now = Context.Time.GetUtcNow();
        return name switch
        {
            "buildInfo" or "buildinfo" => BuildInfo(),
            "ping" => Ok(),
            "saslStart" => SaslStart(connection, session, command),
            "saslContinue" => SaslContinue(connection, session, command),
            "authenticate" => AuthenticateLegacy(connection, command),
            "logout" => Logout(session),
            "endSessions" or "killCursors" or "killAllSessions" => Ok(),
            "whatsmyuri" => Ok(("you", $"{connection.RemoteIp}:{connection.Remote.Port}")),
            "connectionStatus" => ConnectionStatus(session),
            "getnonce" => Error(59, "CommandNotFound", "no such command: 'getnonce'"),
            "serverStatus" => ServerStatus(now),
            "hostInfo" => HostInfo(now),
            "getCmdLineOpts" => CmdLineOptions(),
            "listDatabases" => ListDatabases(command),
            "listCollections" => ListCollections(command),
            "find" => Find(command),
            "aggregate" => Aggregate(command),
            "count" => Ok(("n", Collection(command.Database, command.Body.String("count"))?.Documents.Count ?? 0)),
            "getMore" => GetMore(command),
            "getLog" => Ok(("totalLinesWritten", 0), ("log", new List<object?>())),
            "getParameter" => Ok(("featureCompatibilityVersion", new BsonDocument { { "version", MajorMinor() } })),
            "dbStats" => DbStats(command.Database),
            "listIndexes" => Cursor($"{command.Database}.{command.Body.String("listIndexes")}", [new BsonDocument { { "v", 2 }, { "key", new BsonDocument { { "_id", 1 } } }, { "name", "_id_" } }]),
            _ => Error(59, "CommandNotFound", $"no such command: '{Truncate(name, 64)}'"),
        };
    }

    private BsonDocument Hello(HoneypotConnection connection, Session session, MongoCommand command)
    {
        var body = command.Body;
        if (!session.HelloLogged)
        {
            // The handshake's client metadata names the driver and the tool (mongosh, a scanner's script).
            session.HelloLogged = true;
            var client = body.Document("client");
            var driver = client?.Document("driver");
            var os = client?.Document("os");
            connection.Emit("hello",
                ("command", command.Name),
                ("opcode", command.OpCode.ToString(CultureInfo.InvariantCulture)),
                ("driver", Truncate(driver?.String("name"), 128)),
                ("driver_version", Truncate(driver?.String("version"), 64)),
                ("os", Truncate(os?.String("type"), 64)),
                ("os_name", Truncate(os?.String("name"), 128)),
                ("platform", Truncate(client?.String("platform"), 256)),
                ("application", Truncate(client?.Document("application")?.String("name"), 128)),
                ("sasl_supported_mechs", Truncate(body.String("saslSupportedMechs"), 256)));
        }
        var reply = new BsonDocument();
        if (body.Has("helloOk") || command.Name == "hello")
        {
            reply.Add("helloOk", true);
        }
        reply.Add(command.Name == "hello" ? "isWritablePrimary" : "ismaster", true);
        reply.Add("maxBsonObjectSize", 16 * 1024 * 1024);
        reply.Add("maxMessageSizeBytes", 48_000_000);
        reply.Add("maxWriteBatchSize", 100_000);
        reply.Add("localTime", Context.Time.GetUtcNow());
        reply.Add("logicalSessionTimeoutMinutes", 30);
        reply.Add("connectionId", session.ConnectionId);
        reply.Add("minWireVersion", 0);
        reply.Add("maxWireVersion", WireVersion());
        reply.Add("readOnly", false);
        if (body.String("saslSupportedMechs") is { } mechs && mechs.Contains('.', StringComparison.Ordinal))
        {
            // A real server lists mechanisms only for users that exist; unknown users get none, which also
            // tells the attacker nothing. Answer as if the user existed, so the driver goes on to SCRAM.
            reply.Add("saslSupportedMechs", new List<object?> { "SCRAM-SHA-1", "SCRAM-SHA-256" });
        }
        reply.Add("ok", 1.0);
        return reply;
    }

    private int WireVersion()
    {
        var parts = Version.Split('.');
        var major = parts.Length > 0 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 7;
        var minor = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (major, minor) switch
        {
            (4, 0) => 7,
            (4, 2) => 8,
            (4, 4) => 9,
            (5, _) => 13,
            (6, _) => 17,
            (7, _) => 21,
            (>= 8, _) => 25,
            _ => 7,
        };
    }

    private string MajorMinor() => string.Join('.', Version.Split('.').Take(2));

    private BsonDocument BuildInfo()
    {
        var numbers = Version.Split('.').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).ToList();
        while (numbers.Count < 4)
        {
            numbers.Add(0);
        }
        return Ok(
            ("version", Version),
            ("gitVersion", "ce59cfc6a3c5e5c067dca0d30697edd68d4f5188"),
            ("modules", new List<object?>()),
            ("allocator", "tcmalloc"),
            ("javascriptEngine", "mozjs"),
            ("sysInfo", "deprecated"),
            ("versionArray", numbers.Take(4).Cast<object?>().ToList()),
            ("openssl", new BsonDocument { { "running", "OpenSSL 3.0.2 15 Mar 2022" }, { "compiled", "OpenSSL 3.0.2 15 Mar 2022" } }),
            ("buildEnvironment", new BsonDocument { { "distmod", "ubuntu2204" }, { "distarch", "x86_64" }, { "target_arch", "x86_64" }, { "target_os", "linux" } }),
            ("bits", 64),
            ("debug", false),
            ("maxBsonObjectSize", 16 * 1024 * 1024),
            ("storageEngines", new List<object?> { "devnull", "wiredTiger" }));
    }

    private BsonDocument ServerStatus(DateTimeOffset now)
    {
        var uptime = now - _started;
        return Ok(
            ("host", $"{Context.Hostname}:27017"),
            ("version", Version),
            ("process", "mongod"),
            ("pid", (long)(1000 + ((Context.Hostname.GetHashCode(StringComparison.Ordinal) & 0x7fffffff) % 30_000))),
            ("uptime", Math.Floor(uptime.TotalSeconds)),
            ("uptimeMillis", (long)uptime.TotalMilliseconds),
            ("uptimeEstimate", (long)uptime.TotalSeconds),
            ("localTime", now),
            ("connections", new BsonDocument { { "current", 3 }, { "available", 838_857 }, { "totalCreated", _connectionIds } }));
    }

    private BsonDocument HostInfo(DateTimeOffset now) => Ok(
        ("system", new BsonDocument { { "currentTime", now }, { "hostname", Context.Hostname }, { "cpuAddrSize", 64 }, { "memSizeMB", 7940L }, { "numCores", 4 }, { "cpuArch", "x86_64" } }),
        ("os", new BsonDocument { { "type", "Linux" }, { "name", "Ubuntu" }, { "version", "22.04" } }));

    private static BsonDocument CmdLineOptions() => Ok(
        ("argv", new List<object?> { "/usr/bin/mongod", "--config", "/etc/mongod.conf" }),
        ("parsed", new BsonDocument
        {
            { "config", "/etc/mongod.conf" },
            { "net", new BsonDocument { { "bindIp", "0.0.0.0" }, { "port", 27017 } } },
            { "storage", new BsonDocument { { "dbPath", "/var/lib/mongodb" } } },
            { "systemLog", new BsonDocument { { "destination", "file" }, { "logAppend", true }, { "path", "/var/log/mongodb/mongod.log" } } },
        }));

    private BsonDocument ListDatabases(MongoCommand command)
    {
        var nameOnly = command.Body.Find("nameOnly") is true;
        var databases = _databases.Value.Select(db => (object?)(nameOnly
            ? new BsonDocument { { "name", db.Name } }
            : new BsonDocument { { "name", db.Name }, { "sizeOnDisk", db.SizeOnDisk }, { "empty", false } })).ToList();
        var total = _databases.Value.Sum(db => db.SizeOnDisk);
        return nameOnly ? Ok(("databases", databases)) : Ok(("databases", databases), ("totalSize", total), ("totalSizeMb", total / (1024 * 1024)));
    }

    private BsonDocument ListCollections(MongoCommand command)
    {
        var database = _databases.Value.FirstOrDefault(d => d.Name == command.Database);
        var collections = (database?.Collections ?? []).Select(c => new BsonDocument
        {
            { "name", c.Name },
            { "type", "collection" },
            { "options", new BsonDocument() },
            { "info", new BsonDocument { { "readOnly", false } } },
            { "idIndex", new BsonDocument { { "v", 2 }, { "key", new BsonDocument { { "_id", 1 } } }, { "name", "_id_" } } },
        }).ToList();
        return Cursor($"{command.Database}.$cmd.listCollections", collections);
    }

    private MongoCollection? Collection(string database, string? name) =>
        name is null ? null : _databases.Value.FirstOrDefault(d => d.Name == database)?.Collections.FirstOrDefault(c => c.Name == name);

    private BsonDocument Find(MongoCommand command)
    {
        var collection = command.Body.String("find") ?? command.Collection;
        var documents = Collection(command.Database, collection)?.Documents ?? [];
        var limit = command.Body.Number("limit") is > 0 and var l ? (int)Math.Min(l, MaxBatch) : MaxBatch;
        return Cursor($"{command.Database}.{collection}", [.. Filter(documents, command.Body.Document("filter")).Take(limit)]);
    }

    /// <summary>Equality on top-level fields only: enough for the lookups attackers type.</summary>
    private static IEnumerable<BsonDocument> Filter(IReadOnlyList<BsonDocument> documents, BsonDocument? filter) =>
        filter is null || filter.Count == 0
            ? documents
            : documents.Where(d => filter.All(f => f.Value is BsonDocument || Equals(d.Find(f.Key), f.Value)));

    private BsonDocument Aggregate(MongoCommand command)
    {
        var collection = command.Body.String("aggregate");
        var documents = Collection(command.Database, collection)?.Documents ?? [];
        var pipeline = command.Body.Find("pipeline") as List<object?> ?? [];
        // countDocuments() is an aggregate ending in {$group: {_id: 1, n: {$sum: 1}}}.
        if (pipeline.OfType<BsonDocument>().Any(stage => stage.Has("$group")))
        {
            return Cursor($"{command.Database}.{collection}", [new BsonDocument { { "_id", 1 }, { "n", documents.Count } }]);
        }
        return Cursor($"{command.Database}.{collection}", [.. documents.Take(MaxBatch)]);
    }

    private static BsonDocument GetMore(MongoCommand command) =>
        Ok(("cursor", new BsonDocument { { "nextBatch", new List<object?>() }, { "id", 0L }, { "ns", $"{command.Database}.{command.Body.String("collection")}" } }));

    private BsonDocument DbStats(string database)
    {
        var db = _databases.Value.FirstOrDefault(d => d.Name == database);
        return Ok(("db", database), ("collections", db?.Collections.Count ?? 0), ("objects", db?.Collections.Sum(c => c.Documents.Count) ?? 0),
            ("dataSize", (double)(db?.SizeOnDisk ?? 0) / 2), ("storageSize", (double)(db?.SizeOnDisk ?? 0)));
    }

    private static BsonDocument Cursor(string ns, IReadOnlyList<BsonDocument> batch) =>
        Ok(("cursor", new BsonDocument { { "firstBatch", batch.Cast<object?>().ToList() }, { "id", 0L }, { "ns", ns } }));

    /// <summary>Writes, drops and user management are logged as intent and acknowledged without changing anything.</summary>
    private static BsonDocument Write(HoneypotConnection connection, Session session, MongoCommand command)
    {
        var body = command.Body;
        var name = command.Name;
        var collection = body.Find(name) as string;
        var documents = body.Find("documents") as List<object?> ?? body.Find("updates") as List<object?> ?? body.Find("deletes") as List<object?>;
        connection.Emit("write_attempt",
            ("command", name),
            ("database", command.Database),
            ("collection", Truncate(collection, 128)),
            ("count", documents?.Count.ToString(CultureInfo.InvariantCulture)),
            ("documents", documents is null ? null : Bson.ToJson(documents, 2048)),
            ("username", session.User));
        return name switch
        {
            "insert" or "delete" => Ok(("n", documents?.Count ?? 0)),
            "update" => Ok(("n", documents?.Count ?? 0), ("nModified", documents?.Count ?? 0)),
            "drop" => Ok(("nIndexesWas", 1), ("ns", $"{command.Database}.{collection}")),
            "dropDatabase" => Ok(("dropped", command.Database)),
            "shutdown" or "eval" or "$eval" or "setParameter" => Error(13, "Unauthorized", $"not authorized on admin to execute command {{ {name}: 1 }}"),
            _ => Ok(),
        };
    }

    private BsonDocument SaslStart(HoneypotConnection connection, Session session, MongoCommand command)
    {
        var mechanism = command.Body.String("mechanism") ?? string.Empty;
        var payload = Payload(command.Body);
        if (mechanism is not ("SCRAM-SHA-1" or "SCRAM-SHA-256"))
        {
            connection.Emit("auth", ("mechanism", Truncate(mechanism, 64)), ("database", command.Database), ("status", "failed"),
                ("username", mechanism == "PLAIN" ? PlainUser(payload) : null), ("password", mechanism == "PLAIN" ? PlainPassword(payload) : null));
            return Error(2, "BadValue", $"Received authentication for mechanism {Truncate(mechanism, 64)} which is not enabled");
        }
        var first = payload is null ? null : Scram.ParseClientFirst(Encoding.UTF8.GetString(payload));
        if (first is null)
        {
            connection.Emit("protocol_error", ("error", "malformed SCRAM client-first-message"), ("mechanism", mechanism));
            return Error(17, "ProtocolError", "Invalid SCRAM client-first-message");
        }
        var algorithm = mechanism == "SCRAM-SHA-1" ? ScramAlgorithm.Sha1 : ScramAlgorithm.Sha256;
        var salt = Scram.SaltFor(_saltSecret, $"{command.Database}.{first.Username}.{mechanism}", algorithm == ScramAlgorithm.Sha1 ? 16 : 28);
        var iterations = algorithm == ScramAlgorithm.Sha1 ? Sha1Iterations : Sha256Iterations;
        var combined = first.Nonce + Scram.NewNonce();
        var serverFirst = Scram.ServerFirst(combined, salt, iterations);
        session.Conversation = new ScramConversation(algorithm, command.Database, first, salt, iterations, serverFirst, combined);
        return Ok(("conversationId", 1), ("done", false), ("payload", new BsonBinary(0, Encoding.UTF8.GetBytes(serverFirst))));
    }

    private BsonDocument SaslContinue(HoneypotConnection connection, Session session, MongoCommand command)
    {
        var conversation = session.Conversation;
        session.Conversation = null;
        var payload = Payload(command.Body);
        if (conversation is null || payload is null)
        {
            return Error(17, "ProtocolError", "No SASL session state found");
        }
        var final = Scram.ParseClientFinal(Encoding.UTF8.GetString(payload));
        if (final is null || final.Nonce != conversation.CombinedNonce)
        {
            connection.Emit("protocol_error", ("error", "malformed SCRAM client-final-message"));
            return Error(18, "AuthenticationFailed", "Authentication failed.");
        }
        var user = conversation.First.Username;
        var exchange = new ScramExchange(conversation.Algorithm, user, conversation.Salt, conversation.Iterations,
            $"{conversation.First.Bare},{conversation.ServerFirst},{final.WithoutProof}", final.Proof);
        var password = _users.TryGetValue(user, out var configured) ? ScramPassword(conversation.Algorithm, user, configured) : null;
        var success = password is not null && exchange.Verify(password);
        connection.Emit("auth",
            ("username", user),
            ("database", conversation.Database),
            ("mechanism", exchange.Mechanism),
            ("hash", exchange.HashLine),
            ("hash_type", conversation.Algorithm == ScramAlgorithm.Sha1 ? "mongodb-scram-sha-1" : "mongodb-scram-sha-256"),
            ("iterations", conversation.Iterations.ToString(CultureInfo.InvariantCulture)),
            ("status", success ? "success" : "failed"));
        if (!success)
        {
            return Error(18, "AuthenticationFailed", "Authentication failed.");
        }
        session.User = user;
        connection.SetDisconnectDetails(("username", user));
        return Ok(("conversationId", 1), ("done", true), ("payload", new BsonBinary(0, Encoding.UTF8.GetBytes(exchange.ServerFinal(password!)))));
    }

    /// <summary>
    /// The password as MongoDB feeds it to PBKDF2: SCRAM-SHA-1 hashes <c>user:mongo:password</c> with MD5
    /// first (a legacy of MONGODB-CR), SCRAM-SHA-256 uses the password itself.
    /// </summary>
    // MD5 is fixed by the protocol: the decky recomputes what the client derived.
#pragma warning disable CA5351
    public static string ScramPassword(ScramAlgorithm algorithm, string user, string password) =>
        algorithm == ScramAlgorithm.Sha1 ? Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"{user}:mongo:{password}"))) : password;
#pragma warning restore CA5351

    private static BsonDocument AuthenticateLegacy(HoneypotConnection connection, MongoCommand command)
    {
        var mechanism = command.Body.String("mechanism") ?? "MONGODB-CR";
        connection.Emit("auth", ("mechanism", Truncate(mechanism, 64)), ("username", Truncate(command.Body.String("user"), 256)), ("database", command.Database), ("status", "failed"));
        return Error(mechanism == "MONGODB-X509" ? 18 : 2, mechanism == "MONGODB-X509" ? "AuthenticationFailed" : "BadValue",
            mechanism == "MONGODB-X509" ? "Authentication failed." : $"Auth mechanism not specified or not supported: {Truncate(mechanism, 64)}");
    }

    private static BsonDocument Logout(Session session)
    {
        session.User = null;
        return Ok();
    }

    private static BsonDocument ConnectionStatus(Session session)
    {
        var users = session.User is null ? new List<object?>() : [new BsonDocument { { "user", session.User }, { "db", "admin" } }];
        return Ok(("authInfo", new BsonDocument { { "authenticatedUsers", users }, { "authenticatedUserRoles", new List<object?>() } }));
    }

    private static byte[]? Payload(BsonDocument body) => body.Find("payload") switch
    {
        BsonBinary binary when binary.Data.Length <= Scram.MaxMessageLength => binary.Data,
        string text when text.Length <= Scram.MaxMessageLength => Encoding.UTF8.GetBytes(text),
        _ => null,
    };

    /// <summary>SASL PLAIN (LDAP proxy auth): authzid NUL authcid NUL password.</summary>
    private static string? PlainUser(byte[]? payload) => payload is null ? null : Encoding.UTF8.GetString(payload).Split('\0') is { Length: 3 } parts ? parts[1] : null;

    private static string? PlainPassword(byte[]? payload) => payload is null ? null : Encoding.UTF8.GetString(payload).Split('\0') is { Length: 3 } parts ? parts[2] : null;

    private static void EmitCommand(HoneypotConnection connection, Session session, MongoCommand command, int length)
    {
        var arguments = new BsonDocument(command.Body.Where(e => e.Key is not ("payload" or "$db" or "lsid" or "$clusterTime" or "documents" or "updates" or "deletes")));
        connection.Emit("command",
            ("command", Truncate(command.Name, 64)),
            ("database", Truncate(command.Database, 128)),
            ("collection", Truncate(command.Body.Find(command.Name) as string, 128)),
            ("opcode", command.OpCode.ToString(CultureInfo.InvariantCulture)),
            ("length", length.ToString(CultureInfo.InvariantCulture)),
            ("args", Bson.ToJson(arguments, ArgumentsLogged)),
            ("username", session.User));
    }

    private static BsonDocument Ok(params (string Name, object? Value)[] elements)
    {
        var document = new BsonDocument();
        foreach (var (name, value) in elements)
        {
            document.Add(name, value);
        }
        document.Add("ok", 1.0);
        return document;
    }

    private static BsonDocument Error(int code, string codeName, string message) =>
        new() { { "ok", 0.0 }, { "errmsg", message }, { "code", code }, { "codeName", codeName } };

    private static string LegacyValue(object? value) => value switch
    {
        double d => d.ToString("0.0###", CultureInfo.InvariantCulture),
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        string s => "\"" + Truncate(s, 64) + "\"",
        _ => "1",
    };

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..max];
}
