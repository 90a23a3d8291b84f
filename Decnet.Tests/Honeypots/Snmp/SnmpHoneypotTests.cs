using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Snmp;

namespace Decnet.Tests.Honeypots.Snmp;

public sealed class SnmpHoneypotTests
{
    private const string SysDescr = "1.3.6.1.2.1.1.1.0";
    private const string SysObjectId = "1.3.6.1.2.1.1.2.0";
    private const string SysUpTime = "1.3.6.1.2.1.1.3.0";
    private const string SysName = "1.3.6.1.2.1.1.5.0";

    /// <summary>A decky with only the SNMP agent, described by the given OS family, distro and archetype.</summary>
    private static async Task<TestDecky> StartAsync(string os = "linux", string distro = "debian", string? archetype = null, Dictionary<string, string>? persona = null, string? hostname = null)
    {
        var decky = TestDecky.Create();
        var template = decky.Context(persona, hostname: hostname);
        var context = new ServiceContext
        {
            DeckyName = template.DeckyName,
            Hostname = template.Hostname,
            Distro = distro,
            OsFamily = os,
            Archetype = archetype,
            Persona = template.Persona,
            StateDirectory = template.StateDirectory,
            ArtifactsDirectory = template.ArtifactsDirectory,
            Events = template.Events,
            LoggerFactory = template.LoggerFactory,
        };
        var factory = new SnmpHoneypotFactory();
        await decky.StartAsync(new HostedServiceBinding(factory.Name, factory.Create(context), decky.Address, factory.DefaultPorts));
        return decky;
    }

    /// <summary>A net-snmp tool with numeric OIDs (Debian ships no MIB files) against the decky.</summary>
    private static Task<RealClient.Result> Snmp(string tool, TestDecky decky, string[] options, params string[] oids) =>
        RealClient.RunAsync(tool, ["-On", "-t", "5", "-r", "2", .. options, $"{decky.Address}:161", .. oids]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Snmpget_v2c_reads_the_os_persona_and_the_community_tried_is_a_credential_bounty()
    {
        await using var decky = await StartAsync(distro: "ubuntu22", hostname: "mon-01");

        var get = await Snmp("snmpget", decky, ["-v2c", "-c", "public"], SysDescr, SysObjectId, SysUpTime, SysName);
        Assert.True(get.ExitCode == 0, get.StdErr);
        Assert.Contains(".1.3.6.1.2.1.1.1.0 = STRING: \"Linux mon-01 5.15.0-105-generic #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024 x86_64\"", get.StdOut, StringComparison.Ordinal);
        Assert.Contains(".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.8072.3.2.10", get.StdOut, StringComparison.Ordinal);
        // Claimed boot a few days back at least, as a long-running host's.
        Assert.Matches(@"\.1\.3\.6\.1\.2\.1\.1\.3\.0 = Timeticks: \(\d{8,}\) \d+ days?,", get.StdOut);
        Assert.Contains(".1.3.6.1.2.1.1.5.0 = STRING: \"mon-01\"", get.StdOut, StringComparison.Ordinal);

        var request = await decky.Sink.WaitForAsync("get_request");
        Assert.Equal("2c", request.Field("version"));
        Assert.Equal("public", request.Field("community"));
        Assert.Equal($"{SysDescr},{SysObjectId},{SysUpTime},{SysName}", request.Field("oids"));
        Assert.Equal("answered", request.Field("status"));
        var bounty = Assert.Single(DataFamilyKit.BountiesOf(request));
        Assert.Contains("\"community\":\"public\"", bounty.Payload, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Snmpwalk_walks_the_whole_view_to_its_end_and_finds_the_deckys_own_address()
    {
        await using var decky = await StartAsync();

        var walk = await Snmp("snmpwalk", decky, ["-v2c", "-c", "public"], "1.3.6.1.2.1");
        Assert.True(walk.ExitCode == 0, walk.StdErr);
        Assert.Contains(".1.3.6.1.2.1.1.6.0 = STRING: \"Sitting on the Dock of the Bay\"", walk.StdOut, StringComparison.Ordinal);
        Assert.Contains(".1.3.6.1.2.1.2.2.1.2.2 = STRING: \"eth0\"", walk.StdOut, StringComparison.Ordinal);
        Assert.Contains($".1.3.6.1.2.1.4.20.1.1.{decky.Address} = IpAddress: {decky.Address}", walk.StdOut, StringComparison.Ordinal);
        Assert.Contains("No more variables left in this MIB View (It is past the end of the MIB tree)", walk.StdOut, StringComparison.Ordinal);
        var oids = walk.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('.') && !l.Contains("No more variables", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(oids.Count, oids.Distinct().Count());

        var v1 = await Snmp("snmpwalk", decky, ["-v1", "-c", "public"], "1.3.6.1.2.1.1");
        Assert.True(v1.ExitCode == 0, v1.StdErr);
        Assert.Equal(8, v1.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith(".1.3.6.1.2.1.1.", StringComparison.Ordinal)));
        var bulk = await Snmp("snmpbulkwalk", decky, ["-v2c", "-c", "public"], "1.3.6.1.2.1.2");
        Assert.Contains(".1.3.6.1.2.1.2.2.1.8.2 = INTEGER: 1", bulk.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("get_bulk_request");
        await decky.Sink.WaitForAsync("get_next_request", e => e.Field("version") == "1");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_wrong_community_gets_silence_but_is_recorded_and_unknown_oids_get_the_versions_own_errors()
    {
        await using var decky = await StartAsync(persona: new() { ["community"] = "n0c-r3ad" });

        var guessed = await RealClient.RunAsync("snmpget", ["-On", "-t", "1", "-r", "0", "-v2c", "-c", "public", $"{decky.Address}:161", SysDescr]);
        Assert.NotEqual(0, guessed.ExitCode);
        Assert.Contains("Timeout", guessed.StdErr + guessed.StdOut, StringComparison.Ordinal);
        var refused = await decky.Sink.WaitForAsync("get_request", e => e.Field("community") == "public");
        Assert.Equal("bad_community", refused.Field("status"));
        Assert.Contains("\"community\":\"public\"", Assert.Single(DataFamilyKit.BountiesOf(refused)).Payload, StringComparison.Ordinal);

        var v2 = await Snmp("snmpget", decky, ["-v2c", "-c", "n0c-r3ad"], "1.3.6.1.4.1.9.9.9.0", "1.3.6.1.2.1.1.1.7");
        Assert.Contains(".1.3.6.1.4.1.9.9.9.0 = No Such Object available on this agent at this OID", v2.StdOut, StringComparison.Ordinal);
        Assert.Contains(".1.3.6.1.2.1.1.1.7 = No Such Instance currently exists at this OID", v2.StdOut, StringComparison.Ordinal);
        var v1 = await Snmp("snmpget", decky, ["-v1", "-c", "n0c-r3ad"], SysDescr, "1.3.6.1.4.1.9.9.9.0");
        Assert.Contains("(noSuchName) There is no such variable name in this MIB.", v1.StdErr + v1.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_set_with_the_write_community_is_acknowledged_and_recorded_and_changes_nothing()
    {
        await using var decky = await StartAsync(hostname: "core-sw");

        var set = await Snmp("snmpset", decky, ["-v2c", "-c", "private"], SysName, "s", "pwned-by-x");
        Assert.True(set.ExitCode == 0, set.StdErr);
        Assert.Contains(".1.3.6.1.2.1.1.5.0 = STRING: \"pwned-by-x\"", set.StdOut, StringComparison.Ordinal);
        var readOnly = await Snmp("snmpset", decky, ["-v2c", "-c", "public"], SysName, "s", "again");
        Assert.Contains("noAccess", readOnly.StdErr + readOnly.StdOut, StringComparison.Ordinal);
        var get = await Snmp("snmpget", decky, ["-v2c", "-c", "public"], SysName);
        Assert.Contains("STRING: \"core-sw\"", get.StdOut, StringComparison.Ordinal);

        var recorded = await decky.Sink.WaitForAsync("set_request", e => e.Field("community") == "private");
        Assert.Equal($"{SysName}=pwned-by-x", recorded.Field("values"));
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("SHA", "authNoPriv", "25000")]
    [InlineData("MD5", "authPriv", "25000")]
    [InlineData("SHA-256", "authNoPriv", "26800")]
    public async Task Snmpv3_logins_are_discovered_recorded_as_crackable_hashes_and_refused(string authProtocol, string level, string mode)
    {
        await using var decky = await StartAsync();
        string[] privacy = level == "authPriv" ? ["-x", "AES", "-X", "Priv4cy!pass"] : [];

        var result = await Snmp("snmpget", decky, ["-v3", "-u", "netops", "-l", level, "-a", authProtocol, "-A", "S3cret!pass", .. privacy], SysDescr);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Authentication failure (incorrect password, community or key)", result.StdErr, StringComparison.Ordinal);

        await decky.Sink.WaitForAsync("engine_discovery");
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("netops", auth.Field("username"));
        Assert.Equal(level, auth.Field("security_level"));
        Assert.Equal(mode, auth.Field("hashcat_mode"));
        Assert.StartsWith("80001f8880", auth.Field("engine_id"), StringComparison.Ordinal);
        Assert.Equal(level == "authPriv" ? "encrypted" : "get_request", auth.Field("pdu"));
        var algorithm = authProtocol switch { "MD5" => HashAlgorithmName.MD5, "SHA" => HashAlgorithmName.SHA1, _ => HashAlgorithmName.SHA256 };
        Assert.True(SnmpV3Hash.Verify(auth.Field("hash")!, "S3cret!pass", algorithm));
        Assert.False(SnmpV3Hash.Verify(auth.Field("hash")!, "S3cret!pas", algorithm));

        var bounty = DataFamilyKit.CredentialOf(auth);
        Assert.Equal("netops", bounty["username"]);
        Assert.Equal(auth.Field("hash"), bounty["hash"]);
        Assert.Equal(mode, bounty["hashcat_mode"]);
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("windows_server", null, null, "Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)", ".1.3.6.1.4.1.311.1.1.3.1.2")]
    [InlineData("embedded", "printer", null, "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT", ".1.3.6.1.4.1.11.2.3.9.1")]
    [InlineData("embedded", "industrial-control", null, "Siemens, SIMATIC, Siemens, SIMATIC, S7-200, 6ES7 215-1AG40-0XB0", ".1.3.6.1.4.1.4329.6.1.2")]
    [InlineData("linux", null, "substation", "Siemens, SIMATIC S7-400, CPU 414-3 PN/DP, 6ES7 414-3EM07-0AB0", ".1.3.6.1.4.1.4329.6.1.2")]
    [InlineData("cisco", null, null, "Cisco IOS Software, C2960 Software", ".1.3.6.1.4.1.9.1.716")]
    public async Task The_device_snmp_describes_follows_the_deckys_os_archetype_or_industrial_persona(string os, string? archetype, string? industrial, string description, string objectId)
    {
        await using var decky = await StartAsync(os: os, archetype: archetype, persona: industrial is null ? null : new() { ["persona"] = industrial });

        var get = await Snmp("snmpget", decky, ["-v2c", "-c", "public"], SysDescr, SysObjectId);
        Assert.True(get.ExitCode == 0, get.StdErr);
        Assert.Contains(description, get.StdOut, StringComparison.Ordinal);
        Assert.Contains($"OID: {objectId}", get.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void An_industrial_agent_names_the_same_system_and_firmware_as_the_deckys_plc()
    {
        using var decky = new HoneypotTestContext(new Dictionary<string, string> { ["persona"] = "water_plant" });
        var persona = SnmpPersona.For(decky.Context);
        var plant = Decnet.Core.Honeypots.Ics.IndustrialPersonas.WaterPlant;
        Assert.Equal(plant.SystemName, persona.Name);
        Assert.Equal(plant.SysDescr, persona.Description);
        Assert.Contains(plant.Firmware, persona.Description, StringComparison.Ordinal);
        Assert.Equal(plant.Location, persona.Location);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_datagrams_and_hostile_ber_fault_nothing_and_snmpget_is_still_answered()
    {
        await using var decky = await StartAsync();
        using var udp = new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0));
        var target = new IPEndPoint(decky.Address, 161);
        byte[] Message(byte[] pdu) => Ber.Constructed(Ber.Sequence, Ber.Int(1), Ber.Octets("public"), pdu);
        var manyVarbinds = Ber.Constructed(0xA0, Ber.Int(1), Ber.Int(0), Ber.Int(0),
            Ber.Constructed(Ber.Sequence, [.. Enumerable.Range(0, 200).Select(i => Ber.Constructed(Ber.Sequence, Ber.Oid($"1.3.6.1.2.1.1.{i}.0"), Ber.NullValue()))]));
        var hugeOid = Ber.Element(Ber.ObjectIdentifier, [.. Enumerable.Repeat((byte)0x81, 400), 0x01]);
        var endlessArc = Ber.Element(Ber.ObjectIdentifier, [0x2b, .. Enumerable.Repeat((byte)0xff, 20)]);
        var bulkBomb = Ber.Constructed(0xA5, Ber.Int(1), Ber.Int(-5), Ber.Int(int.MaxValue),
            Ber.Constructed(Ber.Sequence, [.. Enumerable.Range(0, 30).Select(_ => Ber.Constructed(Ber.Sequence, Ber.Oid("1.3"), Ber.NullValue()))]));
        var random = new Random(161);
        List<byte[]> payloads =
        [
            [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
            [0x30, 0x85, 0, 0, 0, 0, 1],
            [0x30, 0x80, 0x02, 0x01, 0x01, 0, 0],
            [0x3f, 0x81, 0x01],
            Message(manyVarbinds),
            Message(Ber.Constructed(0xA0, Ber.Int(1), Ber.Int(0), Ber.Int(0), Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, hugeOid, Ber.NullValue())))),
            Message(Ber.Constructed(0xA1, Ber.Int(1), Ber.Int(0), Ber.Int(0), Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, endlessArc, Ber.NullValue())))),
            Message(Ber.Constructed(0xA0, Ber.Int(1), Ber.Int(0))),
            Message(Ber.Constructed(0xA0, Ber.Element(Ber.Integer, new byte[20]), Ber.Int(0), Ber.Int(0), Ber.Constructed(Ber.Sequence))),
            Message(bulkBomb),
            Ber.Constructed(Ber.Sequence, Ber.Int(3), Ber.Constructed(Ber.Sequence, Ber.Int(1)), Ber.Octets([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])),
            Ber.Constructed(Ber.Sequence, Ber.Int(3), Ber.Constructed(Ber.Sequence, Ber.Int(1), Ber.Int(1500), Ber.Octets([7]), Ber.Int(3)),
                Ber.Octets(Ber.Constructed(Ber.Sequence, Ber.Octets([0x80, 0, 0x1f]), Ber.Int(1), Ber.Int(1), Ber.Octets("u"), Ber.Octets(new byte[12]))), Ber.Octets([1, 2, 3])),
            Ber.Constructed(Ber.Sequence, Ber.Int(99), Ber.Octets("x")),
        ];
        for (var i = 0; i < 40; i++)
        {
            var junk = new byte[random.Next(1, 1400)];
            random.NextBytes(junk);
            payloads.Add(junk);
        }
        foreach (var payload in payloads)
        {
            await udp.SendAsync(payload, target);
        }
        var bulk = Message(bulkBomb);
        await udp.SendAsync(bulk, target);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var bulkReply = await udp.ReceiveAsync(cts.Token);
        Assert.InRange(bulkReply.Buffer.Length, 1, SnmpHoneypot.MaxReplyBytes);

        var get = await Snmp("snmpget", decky, ["-v2c", "-c", "public"], SysDescr);
        Assert.True(get.ExitCode == 0, get.StdErr);
        Assert.Contains(decky.Sink.OfType("parse_error"), e => e.Field("error") == "not an SNMP message");
        Assert.Contains(decky.Sink.OfType("parse_error"), e => e.Field("error") == "malformed PDU");
        DataFamilyKit.AssertNoFaults(decky);
        Assert.All(decky.Hosted.Statistics(), s => Assert.True(s.Datagrams >= payloads.Count));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_flood_from_one_address_gets_a_bounded_number_of_replies()
    {
        await using var decky = await StartAsync();
        using var udp = new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0));
        var request = Ber.Constructed(Ber.Sequence, Ber.Int(1), Ber.Octets("public"),
            Ber.Constructed(0xA5, Ber.Int(7), Ber.Int(0), Ber.Int(20), Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, Ber.Oid("1.3.6.1.2.1"), Ber.NullValue()))));
        var sent = SnmpHoneypot.RepliesPerSourceWindow + 50;
        for (var i = 0; i < sent; i++)
        {
            await udp.SendAsync(request, new IPEndPoint(decky.Address, 161));
        }
        await decky.Sink.WaitForAsync("rate_limited", timeout: TimeSpan.FromSeconds(30));
        var replies = 0;
        while (true)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await udp.ReceiveAsync(quiet.Token);
                replies++;
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Assert.Equal(SnmpHoneypot.RepliesPerSourceWindow, replies);
        Assert.Single(decky.Sink.OfType("rate_limited"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_the_agent_as_snmp()
    {
        await using var decky = await StartAsync();
        var scan = await RealClient.RunAsync("nmap", ["-sU", "-sV", "-Pn", "-n", "-p", "161", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));
        Assert.True(scan.ExitCode == 0, scan.StdErr);
        DataFamilyKit.AssertNmapLine(scan.StdOut, @"161/udp\s+open\s+snmp\s+(net-snmp|SNMPv1 server)");
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void The_ber_reader_refuses_lies_without_throwing()
    {
        Assert.False(new BerReader([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).TryRead(out _));
        Assert.False(new BerReader([0x30, 0x05, 0x02]).TryRead(out _));
        Assert.False(new BerReader([0x1f, 0x01, 0x00]).TryRead(out _));
        Assert.True(new BerReader([0x30, 0x81, 0x01, 0x00]).TryRead(out var element));
        Assert.Equal(1, element.Length);
        Assert.Null(BerReader.Oid([0x2b, 0xff]));
        Assert.Null(BerReader.Oid([.. Enumerable.Repeat((byte)0x81, 12), 0x01]));
        Assert.Equal("1.3.6.1.4.1.8072.3.2.10", BerReader.Oid(Ber.Oid("1.3.6.1.4.1.8072.3.2.10").AsSpan(2)));
        Assert.Equal([0x02, 0x02, 0x00, 0x80], Ber.Int(128));
        Assert.Equal([0x02, 0x01, 0xff], Ber.Int(-1));
        Assert.Equal([0x43, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff], Ber.Unsigned(uint.MaxValue, Ber.TimeTicks));
    }
}
