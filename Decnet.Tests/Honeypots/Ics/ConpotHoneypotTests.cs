using System.Net.Sockets;
using Decnet.Core.Honeypots.Ics;

namespace Decnet.Tests.Honeypots.Ics;

[Trait("Category", "Integration")]
public sealed class ConpotHoneypotTests
{
    /// <summary>mbpoll reads unless values follow the host, which it then writes.</summary>
    private static Task<RealClient.Result> Mbpoll(TestDecky decky, string[] options, params string[] values) =>
        RealClient.RunAsync("mbpoll", ["-1", "-0", "-o", "5", .. options, decky.Address.ToString(), .. values]);

    [Fact]
    public async Task Nmap_modbus_discover_and_s7_info_read_the_personas_controller_identity()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ConpotHoneypotFactory(), new Dictionary<string, string> { ["persona"] = "water_plant" });

        var scan = await RealClient.RunAsync("nmap",
            ["-sT", "-Pn", "-n", "-p", "102,502", "--script", "modbus-discover,s7-info", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(3));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        var output = scan.StdOut;
        Assert.Contains("Slave ID data: ", output, StringComparison.Ordinal);
        Assert.Contains("Device identification: Siemens 6ES7 315-2EH14-0AB0 V3.2.6", output, StringComparison.Ordinal);
        Assert.Matches(@"Module: 6ES7 315-2EH14-0AB0", output);
        Assert.Matches(@"Version: 3\.2\.6", output);
        Assert.Contains("System Name: WTP-NORTH-PLC01", output, StringComparison.Ordinal);
        Assert.Contains("Plant Identification: North Valley Water Treatment", output, StringComparison.Ordinal);
        Assert.Contains("Serial Number: S C-X4U421302009", output, StringComparison.Ordinal);
        Assert.Contains("Module Type: CPU 315-2 PN/DP", output, StringComparison.Ordinal);

        await decky.Sink.WaitForAsync("cotp_connect");
        var szl = await decky.Sink.WaitForAsync("request", e => e.Field("szl_id") == "0x001c");
        Assert.Equal("s7comm", szl.Field("protocol"));
        Assert.Contains(decky.Sink.OfType("request"), e => e.Field("function") == "read_device_identification");
    }

    [Fact]
    public async Task Mbpoll_reads_the_process_values_and_a_written_setpoint_sticks_and_is_a_write_attempt()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ConpotHoneypotFactory(), new Dictionary<string, string> { ["persona"] = "water_plant" });

        var holding = await Mbpoll(decky, ["-t", "4", "-r", "0", "-c", "3"]);
        Assert.True(holding.ExitCode == 0, holding.StdOut + holding.StdErr);
        Assert.Matches(@"\[0\]:\s+650", holding.StdOut);
        Assert.Matches(@"\[1\]:\s+1450", holding.StdOut);

        var write = await Mbpoll(decky, ["-t", "4", "-r", "1"], "9999");
        Assert.True(write.ExitCode == 0, write.StdOut + write.StdErr);
        Assert.Matches(@"\[1\]:\s+9999", (await Mbpoll(decky, ["-t", "4", "-r", "1"])).StdOut);
        var attempt = await decky.Sink.WaitForAsync("write_attempt");
        Assert.Equal("modbus", attempt.Field("protocol"));
        Assert.Equal("1", attempt.Field("address"));
        Assert.Equal("[9999]", attempt.Field("values"));

        var coils = await Mbpoll(decky, ["-t", "0", "-r", "0", "-c", "3"]);
        Assert.Matches(@"\[0\]:\s+1", coils.StdOut);
        Assert.Matches(@"\[2\]:\s+0", coils.StdOut);
        var input = await Mbpoll(decky, ["-t", "3", "-r", "0", "-c", "1"]);
        Assert.Matches(@"\[0\]:\s+612", input.StdOut);

        var outOfRange = await Mbpoll(decky, ["-t", "4", "-r", "500", "-c", "2"]);
        Assert.Contains("Illegal data address", outOfRange.StdOut + outOfRange.StdErr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Persona_overrides_change_the_identity_both_protocols_report()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ConpotHoneypotFactory(), new Dictionary<string, string> { ["persona"] = "factory", ["system_name"] = "PRESS-LINE-7", ["serial"] = "S V-Q1234567" });

        var scan = await RealClient.RunAsync("nmap", ["-sT", "-Pn", "-n", "-p", "102,502", "--script", "modbus-discover,s7-info", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(3));

        Assert.Contains("System Name: PRESS-LINE-7", scan.StdOut, StringComparison.Ordinal);
        Assert.Contains("Serial Number: S V-Q1234567", scan.StdOut, StringComparison.Ordinal);
        Assert.Contains("Device identification: Siemens 6ES7 214-1AG40-0XB0 V4.4.1", scan.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_and_mutated_frames_fault_nothing_and_the_scripts_still_work()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new ConpotHoneypotFactory());

        await Robustness.SendGarbageAsync(hosted.EndPointOf("conpot", 502),
        [
            [0, 1, 0, 0, 0, 0xff, 1, 3, 0, 0],
            [0, 1, 0, 0, 0, 6, 1, 3, 0xff, 0xff, 0, 125],
            [0, 1, 0, 0, 0, 8, 1, 16, 0, 0, 0, 200, 0xff],
            [0, 1, 0, 0, 0, 7, 1, 15, 0, 0, 0x07, 0xb0, 0],
            [0, 1, 0, 0, 0, 4, 1, 43, 14, 9],
            [0, 1, 0, 0, 0, 2, 1, 0x7f],
            [0, 1, 0, 5],
        ]);
        await Robustness.SendGarbageAsync(hosted.EndPointOf("conpot", 102),
        [
            [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 0x7f, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10],
            [3, 0, 0xff, 0xff],
            [3, 0, 0, 7, 2, 0xf0, 0x80],
            [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10, 3, 0, 0, 19, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0],
            [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10, 3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 7, 0, 0, 0, 0, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0, 0xff, 9, 0, 4, 0, 0x11],
        ]);

        var holding = await Mbpoll(decky, ["-t", "4", "-r", "0", "-c", "1"]);
        Assert.True(holding.ExitCode == 0, holding.StdOut + holding.StdErr);
        var scan = await RealClient.RunAsync("nmap", ["-sT", "-Pn", "-n", "-p", "102", "--script", "s7-info", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(3));
        Assert.Contains("System Name: Technodrome", scan.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("protocol_error");
        WireBounty.AssertNoFaults(decky);
    }

    [Fact]
    public async Task A_few_bytes_and_silence_get_the_illegal_function_answer_scanners_recognise()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new ConpotHoneypotFactory());
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("conpot", 502));
        var stream = client.GetStream();

        await stream.WriteAsync("\r\n\r\n"u8.ToArray());
        var buffer = new byte[32];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await stream.ReadAtLeastAsync(buffer, 9, throwOnEndOfStream: false, timeout.Token);

        Assert.Equal(new byte[] { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x03, 0x00, 0x80, 0x01 }, buffer[..read]);
    }
}
