using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Mqtt;

namespace Decnet.Tests.Honeypots.Mqtt;

[Trait("Category", "Integration")]
public sealed class MqttHoneypotTests
{
    private static string[] Target(TestDecky decky) => ["-h", decky.Address.ToString(), "-p", "1883"];

    [Fact]
    public async Task Mosquitto_sub_receives_the_plants_retained_topics_and_the_connect_credentials_are_a_bounty()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MqttHoneypotFactory());

        var sub = await RealClient.RunAsync("mosquitto_sub",
            [.. Target(decky), "-i", "scada-hmi-7", "-u", "scada", "-P", "Sc@da-2024", "-t", "plant/#", "-v", "-C", "7", "-W", "10"]);

        Assert.True(sub.ExitCode == 0, sub.StdErr + sub.StdOut);
        var lines = sub.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.Contains("plant/reservoir/level_m 6.12", lines);
        Assert.Contains("plant/intake/pump1/status RUNNING", lines);

        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("scada-hmi-7", auth.Field("client_id"));
        Assert.Equal("scada", auth.Field("username"));
        Assert.Equal("Sc@da-2024", auth.Field("password"));
        Assert.Equal("3.1.1", auth.Field("protocol_version"));
        Assert.Equal("accepted", auth.Field("status"));
        var subscribe = await decky.Sink.WaitForAsync("subscribe");
        Assert.Equal("[\"plant/#\"]", subscribe.Field("topics"));

        var bounty = Assert.Single(WireBounty.Of(auth));
        Assert.Equal(BountyExtractor.Credential, bounty.BountyType);
        Assert.Equal("scada", WireBounty.Payload(bounty)["username"]);
        Assert.Equal("Sc@da-2024", WireBounty.Payload(bounty)["password"]);
        Assert.Equal(auth.Field("src_ip"), bounty.AttackerIp);
    }

    [Fact]
    public async Task A_retained_publish_is_recorded_and_served_to_the_next_subscriber_and_sys_topics_name_mosquitto()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MqttHoneypotFactory(), new Dictionary<string, string> { ["version"] = "2.0.11" });

        var pub = await RealClient.RunAsync("mosquitto_pub", [.. Target(decky), "-t", "plant/pump1/cmd", "-m", "STOP;rm -rf /tmp/x", "-r", "-q", "1"]);
        Assert.True(pub.ExitCode == 0, pub.StdErr);
        var publish = await decky.Sink.WaitForAsync("publish");
        Assert.Equal("plant/pump1/cmd", publish.Field("topic"));
        Assert.Equal("STOP;rm -rf /tmp/x", publish.Field("payload"));
        Assert.Equal("true", publish.Field("retain"));
        Assert.Equal("1", publish.Field("qos"));

        var sub = await RealClient.RunAsync("mosquitto_sub", [.. Target(decky), "-t", "plant/pump1/cmd", "-t", "$SYS/broker/version", "-v", "-C", "2", "-W", "10"]);
        Assert.True(sub.ExitCode == 0, sub.StdErr + sub.StdOut);
        Assert.Contains("plant/pump1/cmd STOP;rm -rf /tmp/x", sub.StdOut, StringComparison.Ordinal);
        Assert.Contains("$SYS/broker/version mosquitto version 2.0.11", sub.StdOut, StringComparison.Ordinal);
        // A connect without credentials is still logged, and is no credential bounty.
        var anonymous = decky.Sink.OfType("auth").First(e => e.Field("username") is null);
        Assert.Empty(WireBounty.Of(anonymous));
    }

    [Fact]
    public async Task Publishes_reach_a_live_subscriber_of_another_session_over_mqtt_5()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MqttHoneypotFactory(), new Dictionary<string, string> { ["persona"] = "substation" });

        var listening = RealClient.RunAsync("mosquitto_sub", [.. Target(decky), "-V", "5", "-t", "grid/ops/#", "-v", "-C", "1", "-W", "15"]);
        await decky.Sink.WaitForAsync("subscribe");
        var pub = await RealClient.RunAsync("mosquitto_pub", [.. Target(decky), "-V", "5", "-t", "grid/ops/breaker4", "-m", "OPEN"]);
        Assert.True(pub.ExitCode == 0, pub.StdErr);

        var sub = await listening;
        Assert.True(sub.ExitCode == 0, sub.StdErr + sub.StdOut);
        Assert.Equal("grid/ops/breaker4 OPEN", sub.StdOut.Trim());
        Assert.All(decky.Sink.OfType("auth"), e => Assert.Equal("5.0", e.Field("protocol_version")));
    }

    [Fact]
    public async Task Without_accept_all_only_the_persona_users_get_in()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MqttHoneypotFactory(), new Dictionary<string, string> { ["accept_all"] = "false", ["users"] = "plc:plc123" });

        var refused = await RealClient.RunAsync("mosquitto_pub", [.. Target(decky), "-u", "admin", "-P", "admin", "-t", "x", "-m", "1"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("bad user name or password", refused.StdErr, StringComparison.OrdinalIgnoreCase);
        var anonymous = await RealClient.RunAsync("mosquitto_pub", [.. Target(decky), "-t", "x", "-m", "1"]);
        Assert.Contains("not authorised", anonymous.StdErr, StringComparison.OrdinalIgnoreCase);
        var allowed = await RealClient.RunAsync("mosquitto_pub", [.. Target(decky), "-u", "plc", "-P", "plc123", "-t", "x", "-m", "1"]);
        Assert.True(allowed.ExitCode == 0, allowed.StdErr);

        Assert.Equal("rejected", (await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "admin")).Field("status"));
        Assert.Equal("accepted", (await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "plc")).Field("status"));
    }

    [Fact]
    public async Task Garbage_and_mutated_packets_fault_no_session_and_a_real_client_is_served_afterwards()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MqttHoneypotFactory());

        await Robustness.SendGarbageAsync(hosted.EndPointOf("mqtt", 1883),
        [
            [0x10, 0xff, 0xff, 0xff, 0xff, 0x7f],
            [0x10, 0x0c, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0xc2, 0x00, 0x3c, 0xff, 0xff],
            [0x10, 0x10, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x05, 0x02, 0x00, 0x1e, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00],
            [0x30, 0x02, 0x00, 0x05],
            [0x10, 0x0c, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x82, 0x03, 0x00, 0x01, 0xff],
            [0x10, 0x0c, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x32, 0x04, 0x00, 0x01, (byte)'#', 0x07],
            [0xf0, 0x00],
            [0x00],
        ]);

        var sub = await RealClient.RunAsync("mosquitto_sub", [.. Target(decky), "-t", "$SYS/broker/version", "-C", "1", "-W", "10"]);
        Assert.True(sub.ExitCode == 0, sub.StdErr);
        Assert.StartsWith("mosquitto version", sub.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("protocol_error");
        WireBounty.AssertNoFaults(decky);
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData("plant/#", "plant/pump/1", true)]
    [InlineData("plant/+/1", "plant/pump/1", true)]
    [InlineData("plant/+", "plant/pump/1", false)]
    [InlineData("#", "$SYS/broker/version", false)]
    [InlineData("$SYS/#", "$SYS/broker/version", true)]
    [InlineData("plant/#", "plant", true)]
    public void Topic_filters_match_like_the_specification(string filter, string topic, bool expected) =>
        Assert.Equal(expected, MqttCodec.Matches(filter, topic));
}
