using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Snmp;

public sealed class SnmpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "snmp";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(161, ServiceTransport.Udp)];

    public IHoneypotService Create(ServiceContext context) => new SnmpHoneypot(context);
}

/// <summary>
/// An SNMP agent (net-snmp as distributions ship it, or the device the decky's persona is). v1 and v2c
/// answer Get, GetNext and GetBulk for the configured communities (default read <c>public</c>, write
/// <c>private</c>, where Sets are acknowledged and recorded, nothing changes) and stay silent for the rest,
/// like a real agent; every community tried is recorded. v3 runs engine discovery, then records the user and
/// the authenticated message as a crackable hash and answers "wrong digest", so guessing goes on.
/// Replies are capped in size and in number per source address: a spoofed request cannot turn the decky
/// into an amplifier.
/// </summary>
public sealed class SnmpHoneypot : IHoneypotService
{
    public const int MaxReplyBytes = 1400;
    public const int MaxVarbinds = 64;
    public const int RepliesPerSourceWindow = 100;
    public static readonly TimeSpan SourceWindow = TimeSpan.FromSeconds(10);
    private const int MaxTrackedSources = 10_000;
    private const int MaxRepetitions = 32;
    private const int OidsLogged = 16;

    private const string UnknownEngineIds = "1.3.6.1.6.3.15.1.1.4.0";
    private const string UnknownUserNames = "1.3.6.1.6.3.15.1.1.3.0";
    private const string WrongDigests = "1.3.6.1.6.3.15.1.1.5.0";
    private const string UnsupportedSecurityLevels = "1.3.6.1.6.3.15.1.1.1.0";

    private readonly SnmpPersona _persona;
    private readonly HashSet<string> _readCommunities;
    private readonly HashSet<string> _writeCommunities;
    private readonly DateTimeOffset _booted;
    private readonly byte[] _engineId;
    private readonly int _engineBoots;
    private readonly ConcurrentDictionary<string, IReadOnlyList<MibEntry>> _mibs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, SourceBudget> _budgets = new();
    private long _unknownEngineIds;
    private long _unknownUserNames;
    private long _wrongDigests;

    public SnmpHoneypot(ServiceContext context)
    {
        Context = context;
        _persona = SnmpPersona.For(context);
        _readCommunities = Communities(context.PersonaValue("community") ?? "public");
        _writeCommunities = Communities(context.PersonaValue("write_community") ?? "private");
        var identity = SHA256.HashData(Encoding.UTF8.GetBytes("snmp-engine:" + context.Hostname));
        // net-snmp's engine ID format: enterprise 8072 with the "random" flag, then 8 stable bytes.
        _engineId = [0x80, 0x00, 0x1f, 0x88, 0x80, .. identity.AsSpan(0, 8)];
        _engineBoots = 1 + identity[8] % 24;
        _booted = context.Time.GetUtcNow().AddSeconds(-(86_400 * 3 + BitConverter.ToUInt16(identity, 9) * 60));
    }

    public ServiceContext Context { get; }

    public SnmpPersona Persona => _persona;

    private static HashSet<string> Communities(string text) =>
        new(text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);

    private sealed class SourceBudget
    {
        public long WindowStart;
        public int Count;
        public bool Reported;
    }

    private sealed record MibEntry(ulong[] Arcs, string Oid, Func<uint, byte[]> Value);

    private sealed record Varbind(string Oid, ulong[] Arcs, byte ValueTag, byte[] Value);

    private sealed record Pdu(byte Type, long RequestId, long Field1, long Field2, IReadOnlyList<Varbind> Varbinds);

    public ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken)
    {
        var reply = Answer(datagram.Span, remote, local);
        return ValueTask.FromResult(reply is null ? (ReadOnlyMemory<byte>?)null : reply);
    }

    private byte[]? Answer(ReadOnlySpan<byte> data, IPEndPoint remote, IPEndPoint local)
    {
        var reader = new BerReader(data);
        if (!reader.TryEnter(Ber.Sequence, out var message) || message.End != data.Length || !reader.TryReadInteger(out var version))
        {
            Emit(remote, "parse_error", ("error", "not an SNMP message"), ("length", data.Length.ToString(CultureInfo.InvariantCulture)));
            return null;
        }
        var reply = version switch
        {
            0 or 1 => Community(data, ref reader, version, remote, local),
            3 => UserBased(data, ref reader, remote, local),
            _ => Unsupported(remote, version),
        };
        if (reply is null)
        {
            return null;
        }
        if (!Admit(remote))
        {
            return null;
        }
        return reply;
    }

    private byte[]? Unsupported(IPEndPoint remote, long version)
    {
        Emit(remote, "parse_error", ("error", "unsupported version"), ("version", version.ToString(CultureInfo.InvariantCulture)));
        return null;
    }

    /// <summary>Per-source reply budget: a flood (or a spoofed victim's address) gets a bounded number of replies per window.</summary>
    private bool Admit(IPEndPoint remote)
    {
        var now = Context.Time.GetTimestamp();
        if (_budgets.Count > MaxTrackedSources)
        {
            _budgets.Clear();
        }
        var budget = _budgets.GetOrAdd(remote.Address, _ => new SourceBudget { WindowStart = now });
        lock (budget)
        {
            if (Context.Time.GetElapsedTime(budget.WindowStart, now) > SourceWindow)
            {
                budget.WindowStart = now;
                budget.Count = 0;
                budget.Reported = false;
            }
            if (++budget.Count <= RepliesPerSourceWindow)
            {
                return true;
            }
            if (!budget.Reported)
            {
                budget.Reported = true;
                Emit(remote, "rate_limited", ("limit", RepliesPerSourceWindow.ToString(CultureInfo.InvariantCulture)), ("window_s", SourceWindow.TotalSeconds.ToString(CultureInfo.InvariantCulture)));
            }
            return false;
        }
    }

    private byte[]? Community(ReadOnlySpan<byte> data, ref BerReader reader, long version, IPEndPoint remote, IPEndPoint local)
    {
        var versionName = version == 0 ? "1" : "2c";
        if (!reader.TryReadOctets(out var communityBytes))
        {
            Emit(remote, "parse_error", ("error", "missing community"), ("version", versionName));
            return null;
        }
        var community = Encoding.UTF8.GetString(communityBytes);
        var pdu = ReadPdu(data, ref reader, data.Length);
        if (pdu is null)
        {
            Emit(remote, "parse_error", ("error", "malformed PDU"), ("version", versionName), ("community", Shorten(community, 128)));
            return null;
        }
        var write = _writeCommunities.Contains(community);
        var known = write || _readCommunities.Contains(community);
        var eventType = EventType(pdu.Type);
        var fields = new List<(string, string?)>
        {
            ("version", versionName),
            ("community", Shorten(community, 128)),
            ("pdu", eventType),
            ("request_id", pdu.RequestId.ToString(CultureInfo.InvariantCulture)),
            ("oids", Oids(pdu.Varbinds)),
            ("oid_count", pdu.Varbinds.Count.ToString(CultureInfo.InvariantCulture)),
            ("values", pdu.Type == 0xA3 ? Values(pdu.Varbinds) : null),
            ("status", known ? "answered" : "bad_community"),
        };
        Emit(remote, eventType, [.. fields]);
        if (!known)
        {
            // A real agent drops a wrong community silently (and counts snmpInBadCommunityNames).
            return null;
        }

        var mib = Mib(local);
        var uptime = Uptime();
        IReadOnlyList<(string Oid, byte[] Value)> bindings;
        long status = 0, index = 0;
        switch (pdu.Type)
        {
            case 0xA0:
                bindings = Get(mib, pdu.Varbinds, uptime, version, ref status, ref index);
                break;
            case 0xA1:
                bindings = GetNext(mib, pdu.Varbinds, uptime, version, ref status, ref index);
                break;
            case 0xA5 when version == 1:
                bindings = GetBulk(mib, pdu, uptime);
                break;
            case 0xA3:
                if (write)
                {
                    bindings = [.. pdu.Varbinds.Select(v => (v.Oid, Ber.Element(v.ValueTag, v.Value)))];
                }
                else
                {
                    // RFC 1157: a read-only community's Set is noSuchName; v2c says noAccess.
                    status = version == 0 ? 2 : 6;
                    index = 1;
                    bindings = Echo(pdu.Varbinds);
                }
                break;
            case 0xA6:
                bindings = Echo(pdu.Varbinds);
                break;
            default:
                return null;
        }
        return CommunityResponse(version, communityBytes, pdu.RequestId, status, index, bindings);
    }

    private static string EventType(byte type) => type switch
    {
        0xA0 => "get_request",
        0xA1 => "get_next_request",
        0xA3 => "set_request",
        0xA5 => "get_bulk_request",
        0xA4 or 0xA6 or 0xA7 => "trap",
        _ => "unexpected_pdu",
    };

    private static IReadOnlyList<(string, byte[])> Echo(IReadOnlyList<Varbind> varbinds) =>
        [.. varbinds.Select(v => (v.Oid, Ber.Element(v.ValueTag, v.Value)))];

    private static IReadOnlyList<(string, byte[])> Get(IReadOnlyList<MibEntry> mib, IReadOnlyList<Varbind> varbinds, uint uptime, long version, ref long status, ref long index)
    {
        var result = new List<(string, byte[])>();
        for (var i = 0; i < varbinds.Count; i++)
        {
            var entry = mib.FirstOrDefault(e => Compare(e.Arcs, varbinds[i].Arcs) == 0);
            if (entry is not null)
            {
                result.Add((entry.Oid, entry.Value(uptime)));
                continue;
            }
            if (version == 0)
            {
                status = 2;
                index = i + 1;
                return Echo(varbinds);
            }
            // An OID under a known object but not an instance of it is noSuchInstance, anything else noSuchObject.
            var instanceOf = mib.Any(e => varbinds[i].Arcs.Length > 0 && StartsWith(varbinds[i].Arcs, e.Arcs[..^1]));
            result.Add((varbinds[i].Oid, Ber.NullValue(instanceOf ? Ber.NoSuchInstance : Ber.NoSuchObject)));
        }
        return result;
    }

    private static IReadOnlyList<(string, byte[])> GetNext(IReadOnlyList<MibEntry> mib, IReadOnlyList<Varbind> varbinds, uint uptime, long version, ref long status, ref long index)
    {
        var result = new List<(string, byte[])>();
        for (var i = 0; i < varbinds.Count; i++)
        {
            var next = Next(mib, varbinds[i].Arcs);
            if (next is not null)
            {
                result.Add((next.Oid, next.Value(uptime)));
                continue;
            }
            if (version == 0)
            {
                status = 2;
                index = i + 1;
                return Echo(varbinds);
            }
            result.Add((varbinds[i].Oid, Ber.NullValue(Ber.EndOfMibView)));
        }
        return result;
    }

    private static IReadOnlyList<(string, byte[])> GetBulk(IReadOnlyList<MibEntry> mib, Pdu pdu, uint uptime)
    {
        var nonRepeaters = (int)Math.Clamp(pdu.Field1, 0, pdu.Varbinds.Count);
        var repetitions = (int)Math.Clamp(pdu.Field2, 0, MaxRepetitions);
        var result = new List<(string, byte[])>();
        var size = 0;
        bool Add(string oid, byte[] value)
        {
            // Keep the reply within one unfragmented datagram: the size cap is also the amplification cap.
            size += oid.Length / 2 + value.Length + 8;
            if (size > MaxReplyBytes - 64 || result.Count >= MaxVarbinds)
            {
                return false;
            }
            result.Add((oid, value));
            return true;
        }
        foreach (var varbind in pdu.Varbinds.Take(nonRepeaters))
        {
            var next = Next(mib, varbind.Arcs);
            if (!(next is null ? Add(varbind.Oid, Ber.NullValue(Ber.EndOfMibView)) : Add(next.Oid, next.Value(uptime))))
            {
                return result;
            }
        }
        var cursors = pdu.Varbinds.Skip(nonRepeaters).Select(v => (v.Oid, v.Arcs)).ToList();
        for (var r = 0; r < repetitions && cursors.Count > 0; r++)
        {
            for (var c = 0; c < cursors.Count; c++)
            {
                var next = Next(mib, cursors[c].Arcs);
                var added = next is null ? Add(cursors[c].Oid, Ber.NullValue(Ber.EndOfMibView)) : Add(next.Oid, next.Value(uptime));
                if (!added)
                {
                    return result;
                }
                if (next is not null)
                {
                    cursors[c] = (next.Oid, next.Arcs);
                }
            }
        }
        return result;
    }

    private static MibEntry? Next(IReadOnlyList<MibEntry> mib, ulong[] arcs) => mib.FirstOrDefault(e => Compare(e.Arcs, arcs) > 0);

    private static int Compare(ulong[] a, ulong[] b)
    {
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return a[i] < b[i] ? -1 : 1;
            }
        }
        return a.Length.CompareTo(b.Length);
    }

    private static bool StartsWith(ulong[] arcs, ulong[] prefix) => arcs.Length >= prefix.Length && Compare(arcs[..prefix.Length], prefix) == 0;

    private static byte[] CommunityResponse(long version, ReadOnlySpan<byte> community, long requestId, long status, long index, IReadOnlyList<(string Oid, byte[] Value)> bindings) =>
        Ber.Constructed(Ber.Sequence,
            Ber.Int(version),
            Ber.Octets(community),
            Ber.Constructed(0xA2,
                Ber.Int(requestId),
                Ber.Int(status),
                Ber.Int(index),
                Ber.Constructed(Ber.Sequence, [.. bindings.Select(b => Ber.Constructed(Ber.Sequence, Ber.Oid(b.Oid), b.Value))])));

    /// <summary>A PDU (its tag in A0..A8) read up to <paramref name="end"/>; null when malformed.</summary>
    private static Pdu? ReadPdu(ReadOnlySpan<byte> data, ref BerReader reader, int end)
    {
        if (!reader.TryRead(out var pdu) || pdu.Tag is < 0xA0 or > 0xA8 || pdu.End > end
            || !reader.TryReadInteger(out var requestId) || !reader.TryReadInteger(out var field1) || !reader.TryReadInteger(out var field2)
            || !reader.TryEnter(Ber.Sequence, out var list) || list.End > pdu.End)
        {
            return null;
        }
        var varbinds = new List<Varbind>();
        while (!reader.AtEnd(list.End))
        {
            if (varbinds.Count >= MaxVarbinds || !reader.TryEnter(Ber.Sequence, out var binding) || binding.End > list.End
                || !reader.TrySkip(out var oid) || oid.Tag != Ber.ObjectIdentifier || !reader.TrySkip(out var value) || value.End != binding.End)
            {
                return null;
            }
            var dotted = BerReader.Oid(data.Slice(oid.ContentStart, oid.Length));
            if (dotted is null)
            {
                return null;
            }
            varbinds.Add(new Varbind(dotted, Arcs(dotted), value.Tag, data.Slice(value.ContentStart, value.Length).ToArray()));
        }
        return new Pdu(pdu.Tag, requestId, field1, field2, varbinds);
    }

    private static ulong[] Arcs(string dotted) =>
        [.. dotted.Split('.').Select(a => ulong.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : ulong.MaxValue)];

    private byte[]? UserBased(ReadOnlySpan<byte> data, ref BerReader reader, IPEndPoint remote, IPEndPoint local)
    {
        if (!reader.TryEnter(Ber.Sequence, out var header) || !reader.TryReadInteger(out var messageId) || !reader.TryReadInteger(out _)
            || !reader.TryReadOctets(out var flagBytes) || flagBytes.Length != 1 || !reader.TryReadInteger(out var securityModel)
            || reader.Position != header.End || !reader.TryRead(out var securityParameters) || securityParameters.Tag != Ber.OctetString)
        {
            Emit(remote, "parse_error", ("error", "malformed SNMPv3 header"), ("version", "3"));
            return null;
        }
        var flags = flagBytes[0];
        var usm = new BerReader(data, securityParameters.ContentStart);
        if (securityModel != 3 || !usm.TryEnter(Ber.Sequence, out var usmSequence) || usmSequence.End != securityParameters.End
            || !usm.TryReadOctets(out var engineId) || !usm.TryReadInteger(out var boots) || !usm.TryReadInteger(out var engineTime)
            || !usm.TryReadOctets(out var userBytes) || !usm.TryRead(out var authParameters) || authParameters.Tag != Ber.OctetString)
        {
            Emit(remote, "parse_error", ("error", "malformed USM parameters"), ("version", "3"), ("security_model", securityModel.ToString(CultureInfo.InvariantCulture)));
            return null;
        }
        var usmAfterAuth = new BerReader(data, authParameters.End);
        if (!usmAfterAuth.TryReadOctets(out var privParameters) || usmAfterAuth.Position != usmSequence.End)
        {
            Emit(remote, "parse_error", ("error", "malformed USM parameters"), ("version", "3"));
            return null;
        }
        reader = new BerReader(data, securityParameters.End);
        var user = Encoding.UTF8.GetString(userBytes);
        var authenticated = (flags & 1) != 0;
        var encrypted = (flags & 2) != 0;
        var level = authenticated ? encrypted ? "authPriv" : "authNoPriv" : "noAuthNoPriv";

        Pdu? pdu = null;
        string? contextName = null;
        if (!encrypted && reader.TryEnter(Ber.Sequence, out var scoped) && scoped.End == data.Length && reader.TryReadOctets(out _) && reader.TryReadOctets(out var contextBytes))
        {
            contextName = Encoding.UTF8.GetString(contextBytes);
            pdu = ReadPdu(data, ref reader, data.Length);
        }
        var sameEngine = engineId.SequenceEqual(_engineId);
        var fields = new List<(string, string?)>
        {
            ("version", "3"),
            ("username", user.Length == 0 ? null : Shorten(user, 128)),
            ("security_level", level),
            ("engine_id", Convert.ToHexStringLower(engineId)),
            ("msg_id", messageId.ToString(CultureInfo.InvariantCulture)),
            ("context_name", string.IsNullOrEmpty(contextName) ? null : Shorten(contextName, 128)),
            ("pdu", pdu is null ? (encrypted ? "encrypted" : null) : EventType(pdu.Type)),
            ("oids", pdu is null ? null : Oids(pdu.Varbinds)),
        };

        string report;
        if (engineId.Length == 0 || !sameEngine)
        {
            // Engine discovery: the client learns our engine ID, boots and time from this report.
            fields.Add(("status", "discovery"));
            Emit(remote, "engine_discovery", [.. fields]);
            report = UnknownEngineIds;
            Interlocked.Increment(ref _unknownEngineIds);
        }
        else if (authenticated && user.Length > 0)
        {
            var digest = data.Slice(authParameters.ContentStart, authParameters.Length).ToArray();
            var zeroed = data.ToArray();
            Array.Clear(zeroed, authParameters.ContentStart, authParameters.Length);
            var (hashType, mode) = SnmpV3Hash.ModeFor(digest.Length);
            fields.Add(("auth_params", Convert.ToHexStringLower(digest)));
            fields.Add(("priv_params", privParameters.Length == 0 ? null : Convert.ToHexStringLower(privParameters)));
            fields.Add(("engine_boots", boots.ToString(CultureInfo.InvariantCulture)));
            fields.Add(("engine_time", engineTime.ToString(CultureInfo.InvariantCulture)));
            fields.Add(("hash", SnmpV3Hash.Line(hashType, messageId, zeroed, engineId.ToArray(), digest)));
            fields.Add(("hash_type", "snmpv3"));
            fields.Add(("hashcat_mode", mode));
            fields.Add(("status", "failed"));
            Emit(remote, "auth", [.. fields]);
            // Every user "exists" and every password is wrong: guessing goes on, and each guess is a hash.
            report = WrongDigests;
            Interlocked.Increment(ref _wrongDigests);
        }
        else
        {
            fields.Add(("status", user.Length == 0 ? "no_user" : "unknown_user"));
            Emit(remote, "v3_request", [.. fields]);
            report = user.Length == 0 ? UnsupportedSecurityLevels : UnknownUserNames;
            Interlocked.Increment(ref _unknownUserNames);
        }
        var count = report switch
        {
            UnknownEngineIds => Interlocked.Read(ref _unknownEngineIds),
            WrongDigests => Interlocked.Read(ref _wrongDigests),
            _ => Interlocked.Read(ref _unknownUserNames),
        };
        return Report(messageId, userBytes, pdu?.RequestId ?? 0, report, (uint)count);
    }

    private byte[] Report(long messageId, ReadOnlySpan<byte> user, long requestId, string counter, uint count)
    {
        var engineTime = (long)(Context.Time.GetUtcNow() - _booted).TotalSeconds;
        var securityParameters = Ber.Constructed(Ber.Sequence,
            Ber.Octets(_engineId), Ber.Int(_engineBoots), Ber.Int(engineTime), Ber.Octets(user), Ber.Octets([]), Ber.Octets([]));
        return Ber.Constructed(Ber.Sequence,
            Ber.Int(3),
            Ber.Constructed(Ber.Sequence, Ber.Int(messageId), Ber.Int(65507), Ber.Octets([0]), Ber.Int(3)),
            Ber.Octets(securityParameters),
            Ber.Constructed(Ber.Sequence,
                Ber.Octets(_engineId),
                Ber.Octets([]),
                Ber.Constructed(0xA8, Ber.Int(requestId), Ber.Int(0), Ber.Int(0),
                    Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, Ber.Oid(counter), Ber.Unsigned(count, Ber.Counter32))))));
    }

    /// <summary>sysUpTime in hundredths of a second since the agent's claimed boot (wraps like the real counter).</summary>
    private uint Uptime() => (uint)((long)((Context.Time.GetUtcNow() - _booted).TotalMilliseconds / 10) % (1L << 32));

    /// <summary>The agent's MIB view, sorted: system group, interfaces, the addresses it answers on, host resources.</summary>
    private IReadOnlyList<MibEntry> Mib(IPEndPoint local) => _mibs.GetOrAdd(local.Address.ToString(), _ => BuildMib(local.Address));

    private List<MibEntry> BuildMib(IPAddress local)
    {
        var p = _persona;
        var entries = new List<MibEntry>();
        void Add(string oid, Func<uint, byte[]> value) => entries.Add(new MibEntry(Arcs(oid), oid, value));
        void Fixed(string oid, byte[] value) => Add(oid, _ => value);

        Fixed("1.3.6.1.2.1.1.1.0", Ber.Octets(p.Description));
        Fixed("1.3.6.1.2.1.1.2.0", Ber.Oid(p.ObjectId));
        Add("1.3.6.1.2.1.1.3.0", uptime => Ber.Unsigned(uptime, Ber.TimeTicks));
        Fixed("1.3.6.1.2.1.1.4.0", Ber.Octets(p.Contact));
        Fixed("1.3.6.1.2.1.1.5.0", Ber.Octets(p.Name));
        Fixed("1.3.6.1.2.1.1.6.0", Ber.Octets(p.Location));
        Fixed("1.3.6.1.2.1.1.7.0", Ber.Int(p.Services));
        Fixed("1.3.6.1.2.1.1.8.0", Ber.Unsigned(12, Ber.TimeTicks));
        Fixed("1.3.6.1.2.1.2.1.0", Ber.Int(p.Interfaces.Count));
        var columns = new (int Column, Func<int, SnmpInterface, byte[]> Value)[]
        {
            (1, (i, _) => Ber.Int(i)),
            (2, (_, nic) => Ber.Octets(nic.Description)),
            (3, (_, nic) => Ber.Int(nic.Type)),
            (4, (_, nic) => Ber.Int(nic.Mtu)),
            (5, (_, nic) => Ber.Unsigned(nic.Speed, Ber.Gauge32)),
            (6, (_, nic) => Ber.Octets(nic.PhysicalAddress)),
            (7, (_, _) => Ber.Int(1)),
            (8, (_, _) => Ber.Int(1)),
        };
        foreach (var (column, value) in columns)
        {
            for (var i = 0; i < p.Interfaces.Count; i++)
            {
                Fixed($"1.3.6.1.2.1.2.2.1.{column}.{i + 1}", value(i + 1, p.Interfaces[i]));
            }
        }
        // ipAdEntAddr/IfIndex/NetMask: the address the probe reached, as the agent's own.
        var addresses = new List<(IPAddress Address, int IfIndex, string Mask)>();
        if (local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !local.Equals(IPAddress.Any))
        {
            addresses.Add((local, p.Interfaces.Count, IPAddress.IsLoopback(local) ? "255.0.0.0" : "255.255.255.0"));
        }
        if (p.Interfaces.Count > 1 && !addresses.Any(a => a.Address.Equals(IPAddress.Loopback)))
        {
            addresses.Add((IPAddress.Loopback, 1, "255.0.0.0"));
        }
        foreach (var (column, value) in new (int, Func<(IPAddress Address, int IfIndex, string Mask), byte[]>)[]
        {
            (1, a => Ber.Element(Ber.IpAddress, a.Address.GetAddressBytes())),
            (2, a => Ber.Int(a.IfIndex)),
            (3, a => Ber.Element(Ber.IpAddress, IPAddress.Parse(a.Mask).GetAddressBytes())),
        })
        {
            foreach (var address in addresses)
            {
                Fixed($"1.3.6.1.2.1.4.20.1.{column}.{address.Address}", value(address));
            }
        }
        if (p.HostResources)
        {
            Add("1.3.6.1.2.1.25.1.1.0", uptime => Ber.Unsigned(uptime + 127, Ber.TimeTicks));
        }
        entries.Sort((a, b) => Compare(a.Arcs, b.Arcs));
        return entries;
    }

    private static string Oids(IReadOnlyList<Varbind> varbinds) =>
        string.Join(',', varbinds.Take(OidsLogged).Select(v => Shorten(v.Oid, 128))) + (varbinds.Count > OidsLogged ? ",…" : "");

    private static string Values(IReadOnlyList<Varbind> varbinds) =>
        Shorten(string.Join(',', varbinds.Take(OidsLogged).Select(v => $"{v.Oid}={Describe(v)}")), 1024);

    private static string Describe(Varbind varbind) => varbind.ValueTag switch
    {
        Ber.OctetString when varbind.Value.All(b => b is >= 0x20 and < 0x7f) => Encoding.ASCII.GetString(varbind.Value),
        Ber.Integer when varbind.Value.Length is > 0 and <= 8 && BerReader.TryInteger(varbind.Value, out var number) => number.ToString(CultureInfo.InvariantCulture),
        Ber.Null => "null",
        _ => $"0x{varbind.ValueTag:x2}:{Convert.ToHexStringLower(varbind.Value.AsSpan(0, Math.Min(varbind.Value.Length, 64)))}",
    };

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max];

    private void Emit(IPEndPoint remote, string eventType, params (string Key, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>>(fields.Length + 2)
        {
            new("src_ip", remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4().ToString() : remote.Address.ToString()),
            new("src_port", remote.Port.ToString(CultureInfo.InvariantCulture)),
        };
        list.AddRange(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)));
        Context.Events.Publish(new HoneypotEvent(Context.Time.GetUtcNow(), Context.DeckyName, "snmp", eventType, list, null, EventSeverity.Informational));
    }
}
