using System.Globalization;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Redis;

public sealed class RedisHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "redis";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(6379)];

    public IHoneypotService Create(ServiceContext context) => new RedisHoneypot(context);
}

/// <summary>
/// An unprotected-looking Redis 7: the classic target of cryptominer droppers (CONFIG SET dir, SLAVEOF
/// rogue master, MODULE LOAD). Every command is an event; AUTH passwords are captured. With the persona
/// key <c>password</c> set, the server demands AUTH like a real requirepass instance.
/// </summary>
public sealed class RedisHoneypot(ServiceContext context) : IHoneypotService
{
    private const int MaxLoggedArguments = 8;
    private const int MaxLoggedArgumentLength = 256;
    private const int MaxSessionKeys = 64;

    private static readonly Dictionary<string, string> BaitKeys = new(StringComparer.Ordinal)
    {
        ["session:admin"] = "{\"user\":\"admin\",\"role\":\"superuser\",\"token\":\"9f2c1e7a44b04d0c\"}",
        ["config:db"] = "postgres://app:Pr0dDbP4ss!@10.0.4.12:5432/app",
        ["api:stripe_key"] = "sk_live_51Hx2bQKz8vTq3rW0yPc7dLm",
        ["backup:last_run"] = "2026-03-02T03:00:01Z",
        ["cache:users:count"] = "1842",
    };

    public ServiceContext Context { get; } = context;

    private string Version => Context.PersonaValue("version") ?? "7.2.7";

    private string OsString => Context.PersonaValue("os_string") ?? "Linux 5.15.0-105-generic x86_64";

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var reader = new RespReader(connection.CreateLineReader());
        var session = new Session(Context.PersonaValue("password") is null);
        while (!cancellationToken.IsCancellationRequested)
        {
            var request = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (request.Status)
            {
                case RespReadStatus.EndOfStream:
                    return;
                case RespReadStatus.Empty:
                    continue;
                case RespReadStatus.ProtocolError:
                    connection.Emit("protocol_error", ("error", request.Error));
                    await WriteAsync(connection, $"-ERR Protocol error: {request.Error}\r\n", cancellationToken).ConfigureAwait(false);
                    return;
            }
            var args = request.Arguments;
            var cmd = args[0].ToUpperInvariant();
            connection.Emit("command", ("cmd", cmd), ("args", LoggedArgs(args)));
            var (reply, close) = Execute(connection, session, cmd, args);
            await WriteAsync(connection, reply, cancellationToken).ConfigureAwait(false);
            if (close)
            {
                return;
            }
        }
    }

    private static string LoggedArgs(IReadOnlyList<string> args)
    {
        var logged = args.Skip(1).Take(MaxLoggedArguments).Select(a => a.Length > MaxLoggedArgumentLength ? a[..MaxLoggedArgumentLength] : a).ToArray();
        return JsonSerializer.Serialize(logged);
    }

    private static Task WriteAsync(HoneypotConnection connection, string reply, CancellationToken cancellationToken) =>
        connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(reply), cancellationToken).AsTask();

    private sealed class Session(bool authenticated)
    {
        public bool Authenticated { get; set; } = authenticated;
        public string? ClientName { get; set; }
        public int Database { get; set; }
        public Dictionary<string, string> Keys { get; } = new(BaitKeys, StringComparer.Ordinal);
    }

    private (string Reply, bool Close) Execute(HoneypotConnection connection, Session session, string cmd, IReadOnlyList<string> args)
    {
        if (cmd == "AUTH")
        {
            return (Authenticate(connection, session, args), false);
        }
        if (cmd == "QUIT")
        {
            return ("+OK\r\n", true);
        }
        if (!session.Authenticated && cmd is not ("HELLO" or "PING" or "COMMAND"))
        {
            return ("-NOAUTH Authentication required.\r\n", false);
        }
        return cmd switch
        {
            "PING" when !session.Authenticated => ("-NOAUTH Authentication required.\r\n", false),
            "PING" => (args.Count > 1 ? Bulk(args[1]) : "+PONG\r\n", false),
            "ECHO" when args.Count == 2 => (Bulk(args[1]), false),
            "INFO" => (Bulk(Info(args.Count > 1 ? args[1] : "default")), false),
            "CONFIG" => (Config(connection, args), false),
            "KEYS" when args.Count == 2 => (Array(session.Keys.Keys.Where(k => GlobMatch(args[1], k)).Order(StringComparer.Ordinal)), false),
            "SCAN" => ("*2\r\n$1\r\n0\r\n" + Array(session.Keys.Keys.Order(StringComparer.Ordinal)), false),
            "DBSIZE" => (Integer(session.Database == 0 ? session.Keys.Count : 0), false),
            "GET" when args.Count == 2 => (session.Database == 0 && session.Keys.TryGetValue(args[1], out var value) ? Bulk(value) : "$-1\r\n", false),
            "SET" when args.Count >= 3 => (Set(session, args[1], args[2]), false),
            "EXISTS" when args.Count >= 2 => (Integer(args.Skip(1).Count(session.Keys.ContainsKey)), false),
            "TYPE" when args.Count == 2 => (session.Keys.ContainsKey(args[1]) ? "+string\r\n" : "+none\r\n", false),
            "DEL" or "UNLINK" when args.Count >= 2 => (Integer(args.Skip(1).Count(session.Keys.Remove)), false),
            "FLUSHALL" or "FLUSHDB" => (Flush(session), false),
            "SELECT" when args.Count == 2 => (Select(session, args[1]), false),
            "CLIENT" => (Client(connection, session, args), false),
            "COMMAND" => (CommandInfo(args), false),
            "HELLO" => (Hello(session, args), false),
            "SAVE" => ("+OK\r\n", false),
            "BGSAVE" => ("+Background saving started\r\n", false),
            "LASTSAVE" => (Integer(Context.Time.GetUtcNow().AddMinutes(-17).ToUnixTimeSeconds()), false),
            "SLAVEOF" or "REPLICAOF" when args.Count == 3 => ("+OK\r\n", false),
            "MODULE" => ("-ERR Error loading the extension. Please check the server logs.\r\n", false),
            "TIME" => (Time(), false),
            "ROLE" => ("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", false),
            _ => (UnknownOrArity(cmd, args), false),
        };
    }

    private string Authenticate(HoneypotConnection connection, Session session, IReadOnlyList<string> args)
    {
        if (args.Count is < 2 or > 3)
        {
            return "-ERR wrong number of arguments for 'auth' command\r\n";
        }
        var username = args.Count == 3 ? args[1] : "default";
        var password = args[^1];
        var configured = Context.PersonaValue("password");
        var success = configured is not null && username == "default" && password == configured;
        connection.Emit("auth", ("username", username), ("password", password), ("status", success ? "success" : "failed"));
        if (configured is null)
        {
            return args.Count == 3
                ? "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                : "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n";
        }
        if (success)
        {
            session.Authenticated = true;
            return "+OK\r\n";
        }
        return "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    }

    private static string Set(Session session, string key, string value)
    {
        if (session.Keys.Count >= MaxSessionKeys && !session.Keys.ContainsKey(key))
        {
            return "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
        }
        session.Keys[key] = value.Length > 1024 ? value[..1024] : value;
        return "+OK\r\n";
    }

    private static string Flush(Session session)
    {
        session.Keys.Clear();
        return "+OK\r\n";
    }

    private static string Select(Session session, string index)
    {
        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var db))
        {
            return "-ERR value is not an integer or out of range\r\n";
        }
        if (db > 15)
        {
            return "-ERR DB index is out of range\r\n";
        }
        session.Database = db;
        return "+OK\r\n";
    }

    private string Config(HoneypotConnection connection, IReadOnlyList<string> args)
    {
        if (args.Count < 2)
        {
            return "-ERR wrong number of arguments for 'config' command\r\n";
        }
        var sub = args[1].ToUpperInvariant();
        switch (sub)
        {
            case "GET" when args.Count >= 3:
                var settings = ConfigSettings();
                var pairs = settings.Where(s => args.Skip(2).Any(p => GlobMatch(p.ToLowerInvariant(), s.Key))).SelectMany(s => new[] { s.Key, s.Value });
                return Array(pairs);
            case "SET" when args.Count >= 4 && args.Count % 2 == 0:
                // dir/dbfilename rewrites are how droppers plant cron jobs and SSH keys: worth its own event.
                connection.Emit("config_set", ("parameter", args[2]), ("value", args[3].Length > 512 ? args[3][..512] : args[3]));
                return "+OK\r\n";
            case "RESETSTAT" or "REWRITE":
                return "+OK\r\n";
            default:
                return $"-ERR unknown subcommand '{Sanitise(args[1])}'. Try CONFIG HELP.\r\n";
        }
    }

    private List<KeyValuePair<string, string>> ConfigSettings() =>
    [
        new("dbfilename", "dump.rdb"),
        new("dir", "/var/lib/redis"),
        new("requirepass", string.Empty),
        new("masterauth", string.Empty),
        new("bind", "* -::*"),
        new("port", "6379"),
        new("protected-mode", "no"),
        new("daemonize", "no"),
        new("maxmemory", "0"),
        new("maxmemory-policy", "noeviction"),
        new("appendonly", "no"),
        new("save", "3600 1 300 100 60 10000"),
        new("databases", "16"),
        new("timeout", "0"),
        new("logfile", string.Empty),
    ];

    private string Client(HoneypotConnection connection, Session session, IReadOnlyList<string> args)
    {
        var sub = args.Count > 1 ? args[1].ToUpperInvariant() : string.Empty;
        return sub switch
        {
            "SETNAME" when args.Count == 3 => SetName(session, args[2]),
            "GETNAME" => session.ClientName is null ? "$-1\r\n" : Bulk(session.ClientName),
            "ID" => Integer(Math.Abs(connection.SessionId.GetHashCode() % 100_000)),
            "SETINFO" => "+OK\r\n",
            "LIST" or "INFO" => Bulk($"id=7 addr={connection.RemoteIp}:{connection.Remote.Port} laddr={connection.Local.Address}:{connection.Local.Port} fd=8 name={session.ClientName} age=0 idle=0 flags=N db={session.Database} sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22298 events=r cmd=client|list user=default redir=-1 resp=2\n"),
            _ => $"-ERR unknown subcommand '{Sanitise(args.Count > 1 ? args[1] : string.Empty)}'. Try CLIENT HELP.\r\n",
        };
    }

    private static string SetName(Session session, string name)
    {
        session.ClientName = name.Length > 64 ? name[..64] : name;
        return "+OK\r\n";
    }

    private static string CommandInfo(IReadOnlyList<string> args)
    {
        var sub = args.Count > 1 ? args[1].ToUpperInvariant() : string.Empty;
        return sub switch
        {
            // redis-cli asks for COMMAND DOCS at start-up to build its hints; an empty map is valid.
            "DOCS" or "INFO" or "" => "*0\r\n",
            "COUNT" => ":241\r\n",
            _ => $"-ERR unknown subcommand '{Sanitise(args[1])}'. Try COMMAND HELP.\r\n",
        };
    }

    private string Hello(Session session, IReadOnlyList<string> args)
    {
        if (args.Count > 1 && args[1] != "2")
        {
            return "-NOPROTO sorry, this protocol version is not supported.\r\n";
        }
        if (!session.Authenticated)
        {
            return "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
        }
        return "*14\r\n" + Bulk("server") + Bulk("redis") + Bulk("version") + Bulk(Version) + Bulk("proto") + ":2\r\n"
            + Bulk("id") + ":7\r\n" + Bulk("mode") + Bulk("standalone") + Bulk("role") + Bulk("master") + Bulk("modules") + "*0\r\n";
    }

    private string Time()
    {
        var now = Context.Time.GetUtcNow();
        var micros = (now.Ticks % TimeSpan.TicksPerSecond) / 10;
        return "*2\r\n" + Bulk(now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)) + Bulk(micros.ToString(CultureInfo.InvariantCulture));
    }

    private string Info(string section)
    {
        var uptime = (long)(Context.Time.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds % 5_000_000 + 86_400;
        var server = $"""
            # Server
            redis_version:{Version}
            redis_git_sha1:00000000
            redis_git_dirty:0
            redis_build_id:d2a7b2c7e1f0a9b3
            redis_mode:standalone
            os:{OsString}
            arch_bits:64
            monotonic_clock:POSIX clock_gettime
            multiplexing_api:epoll
            gcc_version:12.2.0
            process_id:1
            run_id:5f0e3c1bfa2d4a4b9d6e8c7a1b2c3d4e5f607182
            tcp_port:6379
            uptime_in_seconds:{uptime}
            uptime_in_days:{uptime / 86_400}
            hz:10
            executable:/usr/local/bin/redis-server
            config_file:/etc/redis/redis.conf

            """;
        var clients = """
            # Clients
            connected_clients:1
            blocked_clients:0

            """;
        var memory = """
            # Memory
            used_memory:1183944
            used_memory_human:1.13M
            maxmemory:0
            maxmemory_policy:noeviction

            """;
        var keyspace = $"""
            # Keyspace
            db0:keys={BaitKeys.Count},expires=0,avg_ttl=0

            """;
        var text = section.ToLowerInvariant() switch
        {
            "server" => server,
            "clients" => clients,
            "memory" => memory,
            "keyspace" => keyspace,
            _ => server + clients + memory + "# Replication\nrole:master\nconnected_slaves:0\n\n" + keyspace,
        };
        return text.Replace("\n", "\r\n", StringComparison.Ordinal);
    }

    private static string UnknownOrArity(string cmd, IReadOnlyList<string> args)
    {
        var known = cmd is "ECHO" or "KEYS" or "GET" or "SET" or "EXISTS" or "TYPE" or "DEL" or "UNLINK" or "SELECT" or "SLAVEOF" or "REPLICAOF";
        if (known)
        {
            return $"-ERR wrong number of arguments for '{cmd.ToLowerInvariant()}' command\r\n";
        }
        var beginning = string.Concat(args.Skip(1).Take(4).Select(a => $"'{Sanitise(a)}' "));
        return $"-ERR unknown command '{Sanitise(args[0])}', with args beginning with: {beginning}\r\n";
    }

    /// <summary>Error replies are single lines: strip anything that would break the framing.</summary>
    private static string Sanitise(string text)
    {
        var trimmed = text.Length > 128 ? text[..128] : text;
        return new string(trimmed.Select(c => c is '\r' or '\n' ? ' ' : c).ToArray());
    }

    private static string Bulk(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        return $"${bytes.ToString(CultureInfo.InvariantCulture)}\r\n{value}\r\n";
    }

    private static string Integer(long value) => $":{value.ToString(CultureInfo.InvariantCulture)}\r\n";

    private static string Array(IEnumerable<string> items)
    {
        var list = items.ToList();
        var builder = new StringBuilder().Append('*').Append(list.Count.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var item in list)
        {
            builder.Append(Bulk(item));
        }
        return builder.ToString();
    }

    /// <summary>Redis-style glob: '*', '?', and literal characters (enough for KEYS and CONFIG GET).</summary>
    public static bool GlobMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
