using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Vnc;

namespace Decnet.Tests.Honeypots.Vnc;

[Trait("Category", "Integration")]
public sealed class VncHoneypotTests
{
    private static readonly byte[] PasswdFileKey = [23, 82, 107, 6, 35, 78, 88, 7];

    /// <summary>VNC's DES takes key bytes with their bits mirrored compared with standard DES.</summary>
    private static byte[] Mirror(byte[] key) =>
        [.. key.Select(b => (byte)(((b * 0x0802u & 0x22110u) | (b * 0x8020u & 0x88440u)) * 0x10101u >> 16))];

    // VNC authentication is single DES by definition; reproducing the client's answer needs it.
#pragma warning disable CA5351
    private static byte[] DesEncrypt(byte[] key, byte[] data)
    {
        using var des = DES.Create();
        des.Key = Mirror(key);
        return des.EncryptEcb(data, PaddingMode.None);
    }
#pragma warning restore CA5351

    private static byte[] PasswordKey(string password) => [.. Encoding.ASCII.GetBytes(password).Take(8), .. new byte[Math.Max(0, 8 - password.Length)]];

    [Fact]
    public async Task Vncsnapshot_is_refused_and_its_des_response_is_recorded_for_the_password_it_used()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new VncHoneypotFactory());
        var passwd = Path.Combine(decky.Root, "passwd");
        await File.WriteAllBytesAsync(passwd, DesEncrypt(PasswdFileKey, PasswordKey("s3cret!")));

        var result = await RealClient.RunAsync("vncsnapshot", ["-passwd", passwd, $"{decky.Address}:0", Path.Combine(decky.Root, "shot.jpg")]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(File.Exists(Path.Combine(decky.Root, "shot.jpg")));
        // vncsnapshot speaks RFB 3.3, where the server picks the security type.
        Assert.Equal("003.003", (await decky.Sink.WaitForAsync("version")).Field("client_version"));
        var auth = await decky.Sink.WaitForAsync("auth_response");
        var challenge = Convert.FromHexString(auth.Field("challenge")!);
        Assert.Equal(Convert.ToHexStringLower(DesEncrypt(PasswordKey("s3cret!"), challenge[..8])), auth.Field("response")![..16]);
        Assert.Equal(Convert.ToHexStringLower(DesEncrypt(PasswordKey("s3cret!"), challenge[8..])), auth.Field("response")![16..]);
        Assert.Equal($"$vnc$*{auth.Field("challenge")!.ToUpperInvariant()}*{auth.Field("response")!.ToUpperInvariant()}", BountyOf.Credential(auth)["hash"]);
        Assert.Contains(BountyOf.Event(decky.Sink.OfType("version")[0]), b => b.BountyType == "fingerprint");
    }

    [Fact]
    public async Task Garbage_and_truncated_handshakes_leave_no_fault_and_a_real_client_still_gets_through()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new VncHoneypotFactory());
        var endpoint = hosted.EndPointOf("vnc", 5900);
        await Robustness.SendGarbageAsync(endpoint, [
            "RFB 003.008\n"u8.ToArray(),
            [.. "RFB 003.008\n"u8.ToArray(), 1],
            [.. "RFB 003.003\n"u8.ToArray(), .. new byte[7]],
            [.. "RFB 003.008\n"u8.ToArray(), 2, .. new byte[5]],
            "GET / HTTP/1.0\r\n\r\n"u8.ToArray(),
        ]);
        await decky.Sink.WaitForAsync("protocol_error");

        // An RFB 3.3 client: the server picks VNC authentication and closes after the response.
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var stream = client.GetStream();
        var banner = new byte[12];
        await stream.ReadExactlyAsync(banner);
        await stream.WriteAsync("RFB 003.003\n"u8.ToArray());
        var type = new byte[4 + 16];
        await stream.ReadExactlyAsync(type);
        Assert.Equal([0, 0, 0, 2], type[..4]);
        await stream.WriteAsync(new byte[16]);
        var result = new byte[4];
        await stream.ReadExactlyAsync(result);
        Assert.Equal([0, 0, 0, 1], result);
        await decky.Sink.WaitForAsync("auth_response", e => e.Field("client_version") == "003.003");
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }
}
