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

    /// <summary>Whether a captured <c>$vnc$*challenge*response</c> line is what <paramref name="password"/> answers.</summary>
    private static bool CracksTo(string hash, string password)
    {
        var parts = hash.Split('*');
        var (challenge, response) = (Convert.FromHexString(parts[1]), Convert.FromHexString(parts[2]));
        return response.AsSpan().SequenceEqual([.. DesEncrypt(PasswordKey(password), challenge[..8]), .. DesEncrypt(PasswordKey(password), challenge[8..])]);
    }

    [Fact]
    public async Task An_rfb_3_8_client_is_offered_vnc_authentication_challenged_and_refused_with_the_reason_and_its_response_cracks()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new VncHoneypotFactory());
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("vnc", 5900));
        var stream = client.GetStream();
        async Task<byte[]> ReadAsync(int count)
        {
            var bytes = new byte[count];
            await stream.ReadExactlyAsync(bytes);
            return bytes;
        }

        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadAsync(12)));
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray());
        // RFB 3.8 §7.1.2: the count of security types, then the types: VNC Authentication (2) alone.
        Assert.Equal([1, 2], await ReadAsync(2));
        await stream.WriteAsync(new byte[] { 2 });
        var challenge = await ReadAsync(16);
        byte[] answer = [.. DesEncrypt(PasswordKey("letmein"), challenge[..8]), .. DesEncrypt(PasswordKey("letmein"), challenge[8..])];
        await stream.WriteAsync(answer);
        var result = await ReadAsync(8);
        Assert.Equal(1u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(result));
        var reason = await ReadAsync((int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(result.AsSpan(4)));
        Assert.Equal("Authentication failed", Encoding.ASCII.GetString(reason));
        Assert.Equal(0, await stream.ReadAsync(new byte[1]));

        Assert.Equal("003.008", (await decky.Sink.WaitForAsync("version")).Field("client_version"));
        Assert.Equal("2", (await decky.Sink.WaitForAsync("security_choice")).Field("type"));
        var auth = await decky.Sink.WaitForAsync("auth_response");
        Assert.Equal((Convert.ToHexStringLower(challenge), "003.008", "vnc"), (auth.Field("challenge"), auth.Field("client_version"), auth.Field("hash_type")));
        var hash = BountyOf.Credential(auth)["hash"];
        Assert.True(CracksTo(hash, "letmein"), hash);
        Assert.False(CracksTo(hash, "letmein1"), hash);
    }

    [Fact]
    public async Task Nmap_vnc_info_reads_rfb_3_8_with_vnc_authentication_and_vnc_brute_leaves_a_crackable_response_per_guess()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new VncHoneypotFactory());
        var endpoint = hosted.EndPointOf("vnc", 5900);
        var guesses = new[] { "hunter2", "Passw0rd", "vnc2024" };
        var passdb = Path.Combine(decky.Root, "passwords.txt");
        await File.WriteAllLinesAsync(passdb, guesses);

        var scan = await RealClient.RunAsync("nmap",
            ["-sT", "-Pn", "-n", "-p", endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--script", "vnc-info,vnc-brute",
             "--script-args", $"passdb={passdb},brute.firstonly=false", endpoint.Address.ToString()],
            timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.Contains("Protocol version: 3.8", scan.StdOut, StringComparison.Ordinal);
        Assert.Contains("VNC Authentication (2)", scan.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Valid credentials", scan.StdOut, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var cracked = new HashSet<string>();
        while (cracked.Count < guesses.Length && DateTime.UtcNow < deadline)
        {
            cracked = [.. guesses.Where(g => decky.Sink.OfType("auth_response").Any(a => CracksTo(a.Field("hash")!, g)))];
            await Task.Delay(100);
        }
        Assert.Equal(guesses.Order(StringComparer.Ordinal), cracked.Order(StringComparer.Ordinal));
        Assert.All(decky.Sink.OfType("auth_response"), a => Assert.Equal("003.008", a.Field("client_version")));
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
