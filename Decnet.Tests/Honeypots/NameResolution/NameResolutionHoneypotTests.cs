using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.NameResolution;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Honeypots.NameResolution;

[Trait("Category", "Integration")]
public sealed class NameResolutionHoneypotTests
{
    private const string Host = "fs01";

    private static async Task<(TestDecky Decky, HostedDecky Hosted)> StartAsync()
    {
        var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new HostedServiceBinding("llmnr", new NameResolutionHoneypotFactory().Create(decky.Context(hostname: Host)), decky.Address,
            new NameResolutionHoneypotFactory().DefaultPorts));
        return (decky, hosted);
    }

    [Fact]
    public async Task Nmblookup_name_query_and_node_status_get_the_answers_of_a_windows_host()
    {
        var (decky, _) = await StartAsync();
        await using var _ = decky;

        var query = await RealClient.RunAsync("nmblookup", ["-U", decky.Address.ToString(), "FS01"]);
        Assert.True(query.StdOut.Contains($"{decky.Address} FS01<00>", StringComparison.Ordinal), query.StdOut + query.StdErr + string.Join("\n", decky.Sink.Events.Select(e => e.EventType + " " + string.Join(";", e.Fields.Select(f => f.Key + "=" + f.Value)))));
        var logged = await decky.Sink.WaitForAsync("query", e => e.Field("proto") == "nbns" && e.Field("qtype") == "NB");
        Assert.Equal(("FS01", "0x00", "true"), (logged.Field("name"), logged.Field("suffix"), logged.Field("answered")));

        var status = await RealClient.RunAsync("nmblookup", ["-A", decky.Address.ToString()]);
        Assert.Matches(@"FS01\s+<00> -\s+M <ACTIVE>", status.StdOut);
        Assert.Matches(@"CORP\s+<00> - <GROUP> M <ACTIVE>", status.StdOut);
        Assert.Matches(@"MAC Address = [0-9A-F]{2}(-[0-9A-F]{2}){5}", status.StdOut);
        await decky.Sink.WaitForAsync("query", e => e.Field("qtype") == "NBSTAT" && e.Field("answer") == "node_status");
    }

    [Fact]
    public async Task Dig_over_mdns_and_llmnr_resolves_the_own_name_and_a_poisoning_bait_name_is_logged_unanswered()
    {
        var (decky, _) = await StartAsync();
        await using var _ = decky;
        var address = decky.Address.ToString();

        var mdns = await RealClient.RunAsync("dig", ["+tries=1", "+time=2", "-p", "5353", $"@{address}", $"{Host}.local", "A"]);
        Assert.Matches($@"{Host}\.local\.\s+10\s+IN\s+A\s+{Regex(address)}", mdns.StdOut);

        var llmnr = await RealClient.RunAsync("dig", ["+tries=1", "+time=2", "+noedns", "-p", "5355", $"@{address}", Host, "A"]);
        Assert.Matches($@"{Host}\.\s+30\s+IN\s+A\s+{Regex(address)}", llmnr.StdOut);

        var bait = await RealClient.RunAsync("dig", ["+tries=1", "+time=1", "+noedns", "-p", "5355", $"@{address}", "wpad", "A"]);
        Assert.Contains("timed out", bait.StdOut, StringComparison.Ordinal);
        var wpad = await decky.Sink.WaitForAsync("query", e => e.Field("name") == "wpad");
        Assert.Equal(("llmnr", "A", "false"), (wpad.Field("proto"), wpad.Field("qtype"), wpad.Field("answered")));
        Assert.True(IPAddress.TryParse(wpad.Field("src_ip"), out var asker) && IPAddress.IsLoopback(asker), wpad.Field("src_ip"));
        await decky.Sink.WaitForAsync("query", e => e.Field("proto") == "mdns" && e.Field("name") == $"{Host}.local" && e.Field("answered") == "true");
    }

    [Fact]
    public async Task Garbage_datagrams_are_logged_without_a_fault_and_the_next_query_is_answered()
    {
        var (decky, hosted) = await StartAsync();
        await using var _ = decky;
        using var client = new UdpClient(new IPEndPoint(decky.Address, 0));
        var random = new Random(137);
        byte[][] hostile =
        [
            [],
            [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1],
            [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3F, 1, 2],
            [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x00, 0, 1, 0, 1],
            [0, 1, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0, 4, (byte)'w', (byte)'p', (byte)'a', (byte)'d', 0, 0, 1, 0, 1],
            [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 32, .. Enumerable.Repeat((byte)'Z', 32), 0, 0, 0x20, 0, 1],
        ];
        foreach (var port in new[] { 5355, 5353, 137 })
        {
            foreach (var datagram in hostile.Concat(Enumerable.Range(0, 10).Select(_ => { var junk = new byte[random.Next(1, 600)]; random.NextBytes(junk); return junk; })))
            {
                await client.SendAsync(datagram, new IPEndPoint(decky.Address, port));
            }
        }
        await decky.Sink.WaitForAsync("raw_packet");
        await decky.Sink.WaitForAsync("unsolicited_response", e => e.Field("name") == "wpad");

        var query = await RealClient.RunAsync("nmblookup", ["-U", decky.Address.ToString(), "FS01"]);
        Assert.Contains("FS01<00>", query.StdOut, StringComparison.Ordinal);
        Assert.All(hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }

    [Fact]
    public async Task A_query_flood_from_one_address_is_cut_to_the_per_second_budget_and_counted()
    {
        await using var decky = TestDecky.Create();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var context = decky.Context(hostname: Host);
        var service = new NameResolutionHoneypot(new ServiceContext
        {
            DeckyName = context.DeckyName, Hostname = Host, StateDirectory = context.StateDirectory, ArtifactsDirectory = context.ArtifactsDirectory,
            Events = decky.Sink, LoggerFactory = context.LoggerFactory, Time = time,
        });
        var local = new IPEndPoint(decky.Address, NameResolutionHoneypot.LlmnrPort);
        var attacker = new IPEndPoint(IPAddress.Parse("127.0.0.9"), 40000);
        byte[] query = [0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, (byte)'f', (byte)'s', (byte)'0', (byte)'1', 0, 0, 1, 0, 1];

        var answered = 0;
        for (var i = 0; i < 100; i++)
        {
            answered += await service.HandleDatagramAsync(query, attacker, local, CancellationToken.None) is not null ? 1 : 0;
        }
        var other = await service.HandleDatagramAsync(query, new IPEndPoint(IPAddress.Parse("127.0.0.10"), 40000), local, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));
        var next = await service.HandleDatagramAsync(query, attacker, local, CancellationToken.None);

        Assert.Equal(NameResolutionHoneypot.QueriesPerSecondPerSource, answered);
        Assert.NotNull(other);
        Assert.NotNull(next);
        Assert.Equal(NameResolutionHoneypot.QueriesPerSecondPerSource + 2, decky.Sink.OfType("query").Count);
        Assert.Equal("80", decky.Sink.OfType("query")[^1].Field("suppressed"));
    }

    [Fact]
    public async Task A_spoofed_flood_from_thousands_of_addresses_is_cut_to_the_decky_budget_and_counted()
    {
        await using var decky = TestDecky.Create();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var context = decky.Context(hostname: Host);
        var service = new NameResolutionHoneypot(new ServiceContext
        {
            DeckyName = context.DeckyName, Hostname = Host, StateDirectory = context.StateDirectory, ArtifactsDirectory = context.ArtifactsDirectory,
            Events = decky.Sink, LoggerFactory = context.LoggerFactory, Time = time,
        });
        var local = new IPEndPoint(decky.Address, 137);
        // NBSTAT node status: the answer is several times the query, what a reflection attack would want.
        byte[] nodeStatus = [0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 32, .. "CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"u8, 0, 0, 0x21, 0, 1];

        var answered = 0;
        for (var i = 0; i < 3000; i++)
        {
            var spoofed = new IPEndPoint(new IPAddress([10, 50, (byte)(i >> 8), (byte)i]), 137);
            answered += await service.HandleDatagramAsync(nodeStatus, spoofed, local, CancellationToken.None) is not null ? 1 : 0;
        }
        time.Advance(TimeSpan.FromSeconds(1));
        var next = await service.HandleDatagramAsync(nodeStatus, new IPEndPoint(IPAddress.Parse("10.50.200.1"), 137), local, CancellationToken.None);

        Assert.Equal(NameResolutionHoneypot.QueriesPerSecondPerDecky, answered);
        Assert.NotNull(next);
        var queries = decky.Sink.OfType("query");
        Assert.Equal(NameResolutionHoneypot.QueriesPerSecondPerDecky + 1, queries.Count);
        Assert.Equal("node_status", queries[0].Field("answer"));
        Assert.Equal("2500", queries[^1].Field("flood_suppressed"));
        Assert.Null(queries[^1].Field("suppressed"));
    }

    // Real Windows clients never ask a host's own address: LLMNR and mDNS go to their link-local multicast
    // groups, NetBIOS to the subnet's broadcast. On loopback (lo holds 127.0.0.0/8 and 127.255.255.255 is
    // its broadcast) these never leave the machine: a sender bound to a 127 address routes them through lo.

    private static async Task<(TestDecky Decky, string Name)> StartUniqueAsync()
    {
        var name = "WS" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var decky = TestDecky.Create();
        await decky.StartAsync(new HostedServiceBinding("llmnr", new NameResolutionHoneypotFactory().Create(decky.Context(hostname: name.ToLowerInvariant())), decky.Address,
            new NameResolutionHoneypotFactory().DefaultPorts));
        return (decky, name);
    }

    private static byte[] DnsQuery(ushort id, string name, ushort type = 1) =>
        [(byte)(id >> 8), (byte)id, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, .. name.Split('.').SelectMany(l => new[] { (byte)l.Length }.Concat(System.Text.Encoding.ASCII.GetBytes(l))), 0, 0, (byte)type, 0, 1];

    private static UdpClient MulticastSender(out IPEndPoint asker)
    {
        asker = new IPEndPoint(TestDecky.NextAddress(), 0);
        var client = new UdpClient(asker);
        asker = (IPEndPoint)client.Client.LocalEndPoint!;
        // The interface the group datagram leaves by: lo, never the machine's LAN.
        client.Client.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, asker.Address.GetAddressBytes());
        client.Client.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 1);
        return client;
    }

    [Fact]
    public async Task An_llmnr_query_to_the_multicast_group_is_logged_with_the_asker_and_answered_from_the_decky_address()
    {
        var (decky, name) = await StartUniqueAsync();
        await using var _ = decky;
        using var client = MulticastSender(out var asker);

        await client.SendAsync(DnsQuery(0x4242, "wpad"), new IPEndPoint(NameResolutionHoneypot.LlmnrGroup, NameResolutionHoneypot.LlmnrPort));
        var wpad = await decky.Sink.WaitForAsync("query", e => e.Field("name") == "wpad");
        Assert.Equal((asker.Address.ToString(), asker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)), (wpad.Field("src_ip"), wpad.Field("src_port")));
        Assert.Equal(("llmnr", "multicast", "224.0.0.252", "false"), (wpad.Field("proto"), wpad.Field("delivery"), wpad.Field("dst_ip"), wpad.Field("answered")));

        await client.SendAsync(DnsQuery(0x4343, name.ToLowerInvariant()), new IPEndPoint(NameResolutionHoneypot.LlmnrGroup, NameResolutionHoneypot.LlmnrPort));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await client.ReceiveAsync(wait.Token);
        // RFC 4795: the answer to a multicast query is unicast, from the responder's own address.
        Assert.Equal(decky.Address, reply.RemoteEndPoint.Address);
        Assert.Equal([0x43, 0x43], reply.Buffer[..2]);
        Assert.Equal(decky.Address.GetAddressBytes(), reply.Buffer[^4..]);
        await decky.Sink.WaitForAsync("query", e => e.Field("name") == name.ToLowerInvariant() && e.Field("delivery") == "multicast" && e.Field("answered") == "true");
    }

    [Fact]
    public async Task Dig_to_the_mdns_group_is_heard_by_every_decky_on_the_link_and_each_records_the_asker()
    {
        var (first, name) = await StartUniqueAsync();
        await using var _ = first;
        var (second, _) = await StartUniqueAsync();
        await using var __ = second;
        var asker = TestDecky.NextAddress().ToString();

        var dig = await RealClient.RunAsync("dig", ["+tries=1", "+time=2", "-b", asker, "-p", "5353", "@224.0.0.251", $"{name.ToLowerInvariant()}.local", "A"]);

        foreach (var decky in new[] { first, second })
        {
            var heard = await decky.Sink.WaitForAsync("query", e => e.Field("proto") == "mdns" && e.Field("name") == $"{name.ToLowerInvariant()}.local");
            Assert.Equal((asker, "multicast", "224.0.0.251"), (heard.Field("src_ip"), heard.Field("delivery"), heard.Field("dst_ip")));
        }
        Assert.Equal("true", first.Sink.OfType("query").Single(e => e.Field("proto") == "mdns").Field("answered"));
        Assert.Equal("false", second.Sink.OfType("query").Single(e => e.Field("proto") == "mdns").Field("answered"));
        // dig connects its socket to the group, so it never takes the answer that comes, as from any real
        // responder, from the decky's own address (the raw LLMNR test above reads that answer).
        Assert.Contains("224.0.0.251#5353", dig.StdOut + dig.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nmblookup_broadcast_query_on_loopback_is_answered_and_the_asker_recorded()
    {
        var (decky, name) = await StartUniqueAsync();
        await using var _ = decky;

        var lookup = await RealClient.RunAsync("nmblookup", ["-B", "127.255.255.255", name]);

        Assert.Contains($"{decky.Address} {name}<00>", lookup.StdOut, StringComparison.Ordinal);
        var heard = await decky.Sink.WaitForAsync("query", e => e.Field("proto") == "nbns" && e.Field("name") == name);
        Assert.Equal(("broadcast", "127.255.255.255", "true"), (heard.Field("delivery"), heard.Field("dst_ip"), heard.Field("answered")));
        Assert.True(IPAddress.TryParse(heard.Field("src_ip"), out var asker) && IPAddress.IsLoopback(asker), heard.Field("src_ip"));
    }

    [Fact]
    public async Task A_multicast_flood_is_cut_to_the_same_per_source_budget_and_every_dropped_query_is_counted()
    {
        var (decky, _) = await StartUniqueAsync();
        await using var _ = decky;
        using var client = MulticastSender(out var asker);
        var group = new IPEndPoint(NameResolutionHoneypot.LlmnrGroup, NameResolutionHoneypot.LlmnrPort);
        const int Flood = 100;

        for (var i = 0; i < Flood; i++)
        {
            await client.SendAsync(DnsQuery((ushort)i, "flood" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)), group);
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (decky.Hosted.Statistics().Where(s => s.EndPoint.Address.Equals(NameResolutionHoneypot.LlmnrGroup)).Sum(s => s.Datagrams) < Flood && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        // The next second's first query reports how many of this source's queries were dropped before it.
        await Task.Delay(1100);
        await client.SendAsync(DnsQuery(999, "last"), group);
        await decky.Sink.WaitForAsync("query", e => e.Field("name") == "last");

        var logged = decky.Sink.OfType("query").Where(e => e.Field("src_ip") == asker.Address.ToString()).ToList();
        var seconds = logged.Select(e => e.Timestamp.ToUnixTimeSeconds()).Distinct().Count();
        Assert.InRange(logged.Count, 2, NameResolutionHoneypot.QueriesPerSecondPerSource * seconds);
        var dropped = logged.Sum(e => e.Field("suppressed") is { } n ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 0);
        Assert.Equal(Flood + 1, logged.Count + dropped);
    }

    private static string Regex(string address) => System.Text.RegularExpressions.Regex.Escape(address);
}
