using System.Buffers.Binary;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>
/// Well-framed but hostile cleartext packets: a valid KEXINIT followed by random key-exchange
/// messages. The server may refuse, but no exception may escape a session.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SshFuzzTests
{
    private static byte[] Frame(byte[] payload)
    {
        var padding = 8 - ((payload.Length + 5) % 8);
        if (padding < 4)
        {
            padding += 8;
        }
        var packet = new byte[5 + payload.Length + padding];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)(packet.Length - 4));
        packet[4] = (byte)padding;
        payload.CopyTo(packet, 5);
        return packet;
    }

    private static byte[] KexInit(Random random, string kex, bool strict)
    {
        string[] hostKeys = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"];
        return new SshWriter().Byte(SshMessage.KexInit).Raw(new byte[16])
            .String(kex + (strict ? ",kex-strict-c-v00@openssh.com" : "")).String(hostKeys[random.Next(hostKeys.Length)])
            .String("aes128-ctr").String("aes128-ctr").String("hmac-sha2-256").String("hmac-sha2-256").String("none").String("none")
            .String("").String("").Boolean(random.Next(4) == 0).UInt32(0).ToArray();
    }

    [Fact]
    public async Task Random_key_exchange_messages_never_escape_a_session()
    {
        await using var host = await SshTestHost.StartAsync();
        var random = new Random(20261129);
        string[] kexes = ["curve25519-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp521", "diffie-hellman-group14-sha256", "diffie-hellman-group-exchange-sha256", "nonsense"];
        for (var i = 0; i < 60; i++)
        {
            var packets = new List<byte[]> { KexInit(random, kexes[random.Next(kexes.Length)], random.Next(2) == 0) };
            for (var j = random.Next(1, 4); j > 0; j--)
            {
                var body = new byte[random.Next(0, 300)];
                random.NextBytes(body);
                byte type = random.Next(6) switch
                {
                    0 => SshMessage.KexEcdhInit,
                    1 => SshMessage.KexDhGexRequest,
                    2 => SshMessage.KexDhGexInit,
                    3 => SshMessage.NewKeys,
                    4 => SshMessage.ServiceRequest,
                    _ => (byte)random.Next(256),
                };
                // Half the time give the body a plausible string/mpint length prefix.
                if (random.Next(2) == 0 && body.Length >= 4)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(body, (uint)random.Next(0, body.Length));
                }
                packets.Add([type, .. body]);
            }

            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", host.Port, TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("SSH-2.0-fuzz\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            foreach (var packet in packets)
            {
                try
                {
                    await stream.WriteAsync(Frame(packet), TestContext.Current.CancellationToken);
                }
                catch (IOException)
                {
                    break;
                }
            }
            using var timeout = new CancellationTokenSource(3000);
            var buffer = new byte[16 * 1024];
            try
            {
                while (await stream.ReadAsync(buffer, timeout.Token) > 0)
                {
                }
            }
            catch (Exception error) when (error is IOException or OperationCanceledException)
            {
                // Closed, reset, or waiting for more: all acceptable.
            }
        }

        Assert.Empty(host.Errors);
        var result = await host.SshAsync("admin", "echo fuzzed-ok");
        Assert.Equal("fuzzed-ok\n", result.Stdout);
    }
}
