using System.Security.Cryptography;
using Decnet.Core.Honeypots.Ssh;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace Decnet.Tests.Honeypots.Ssh;

public sealed class SshPacketCodecTests
{
    public static TheoryData<string, string> Suites => new()
    {
        { "chacha20-poly1305@openssh.com", "" },
        { "aes128-gcm@openssh.com", "" },
        { "aes256-gcm@openssh.com", "" },
        { "aes128-ctr", "hmac-sha2-256" },
        { "aes192-ctr", "hmac-sha2-512" },
        { "aes256-ctr", "hmac-sha2-256-etm@openssh.com" },
        { "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
        { "aes128-ctr", "hmac-sha1" },
        { "aes128-ctr", "hmac-sha1-etm@openssh.com" },
        { "aes128-ctr", "umac-64@openssh.com" },
        { "aes128-ctr", "umac-64-etm@openssh.com" },
        { "aes256-ctr", "umac-128@openssh.com" },
        { "aes256-ctr", "umac-128-etm@openssh.com" },
    };

    private static (IPacketCipher Writer, IPacketCipher Reader) Pair(string cipher, string mac)
    {
        var (keySize, ivSize) = SshAlgorithms.CipherSizes(cipher);
        var key = RandomNumberGenerator.GetBytes(keySize);
        var iv = RandomNumberGenerator.GetBytes(ivSize);
        var macKey = mac.Length == 0 ? [] : RandomNumberGenerator.GetBytes(SshAlgorithms.MacKeySize(mac));
        return (SshAlgorithms.CreateCipher(cipher, mac, key, iv, macKey), SshAlgorithms.CreateCipher(cipher, mac, key, iv, macKey));
    }

    private static async Task<byte[]> EncodeAsync(IPacketCipher cipher, IEnumerable<byte[]> payloads)
    {
        var wire = new MemoryStream();
        using var writer = new SshPacketStream(wire);
        await writer.WriteNewKeysAsync(cipher, resetSequence: true, startCompression: false, TestContext.Current.CancellationToken);
        foreach (var payload in payloads)
        {
            await writer.WritePacketAsync(payload, TestContext.Current.CancellationToken);
        }
        return wire.ToArray();
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public async Task Packets_sealed_by_one_side_open_on_the_other(string cipher, string mac)
    {
        var (writerCipher, readerCipher) = Pair(cipher, mac);
        byte[][] payloads = [[SshMessage.Ignore], [SshMessage.ChannelData, .. RandomNumberGenerator.GetBytes(70_000)], [SshMessage.Debug, 1, 2, 3]];

        var wire = await EncodeAsync(writerCipher, payloads);

        using var reader = new SshPacketStream(new MemoryStream(wire));
        Assert.Equal(new[] { SshMessage.NewKeys }, await reader.ReadPacketAsync(TestContext.Current.CancellationToken));
        reader.SetReader(readerCipher, resetSequence: true);
        foreach (var payload in payloads)
        {
            Assert.Equal(payload, await reader.ReadPacketAsync(TestContext.Current.CancellationToken));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public async Task A_flipped_bit_is_a_mac_error(string cipher, string mac)
    {
        var (writerCipher, readerCipher) = Pair(cipher, mac);
        var wire = await EncodeAsync(writerCipher, [[SshMessage.Ignore, .. new byte[100]]]);
        // NEWKEYS is 16 cleartext bytes; corrupt the body of the encrypted packet after it.
        wire[16 + 20] ^= 0x01;

        using var reader = new SshPacketStream(new MemoryStream(wire));
        await reader.ReadPacketAsync(TestContext.Current.CancellationToken);
        reader.SetReader(readerCipher, resetSequence: true);
        var error = await Assert.ThrowsAsync<SshProtocolException>(() => reader.ReadPacketAsync(TestContext.Current.CancellationToken));
        Assert.Equal(SshProtocolException.MacError, error.Reason);
    }

    [Fact]
    public async Task Oversized_or_misaligned_lengths_are_rejected_before_allocation()
    {
        using var huge = new SshPacketStream(new MemoryStream([0x7f, 0xff, 0xff, 0xf8, 4, 0, 0, 0]));
        await Assert.ThrowsAsync<SshProtocolException>(() => huge.ReadPacketAsync(TestContext.Current.CancellationToken));
        using var misaligned = new SshPacketStream(new MemoryStream([0, 0, 0, 13, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        await Assert.ThrowsAsync<SshProtocolException>(() => misaligned.ReadPacketAsync(TestContext.Current.CancellationToken));
        using var truncated = new SshPacketStream(new MemoryStream([0, 0, 0, 12, 4, 20]));
        await Assert.ThrowsAsync<EndOfStreamException>(() => truncated.ReadPacketAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Version_exchange_skips_preamble_and_bounds_line_length()
    {
        using var ok = new SshPacketStream(new MemoryStream("hello banner\r\nSSH-2.0-PuTTY_0.81\r\n"u8.ToArray()));
        Assert.Equal("SSH-2.0-PuTTY_0.81", await ok.ReadVersionAsync(TestContext.Current.CancellationToken));
        using var tooLong = new SshPacketStream(new MemoryStream([.. "SSH-2.0-"u8, .. new byte[1000]]));
        await Assert.ThrowsAsync<SshProtocolException>(() => tooLong.ReadVersionAsync(TestContext.Current.CancellationToken));
        using var ssh1 = new SshPacketStream(new MemoryStream("SSH-1.5-old\r\n"u8.ToArray()));
        await Assert.ThrowsAsync<SshProtocolException>(() => ssh1.ReadVersionAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Aes_ctr_matches_nist_sp800_38a_f51_and_carries_the_counter()
    {
        using var ctr = new AesCtr(Convert.FromHexString("2b7e151628aed2a6abf7158809cf4f3c"), Convert.FromHexString("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
        var plain = Convert.FromHexString("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
        var output = new byte[plain.Length];
        // Odd split sizes exercise the keystream buffer.
        ctr.Transform(plain.AsSpan(0, 7), output.AsSpan(0, 7));
        ctr.Transform(plain.AsSpan(7), output.AsSpan(7));
        Assert.Equal("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee", Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Curve25519_and_nistp256_agreements_match_the_client_side_computation()
    {
        var clientPrivate = new byte[32];
        RandomNumberGenerator.Fill(clientPrivate);
        var clientPublic = new byte[32];
        X25519.GeneratePublicKey(clientPrivate, 0, clientPublic, 0);
        var (serverPublic, secret) = SshKeyAgreement.Agree("curve25519-sha256", clientPublic);
        var clientSecret = new byte[32];
        Assert.True(X25519.CalculateAgreement(clientPrivate, 0, serverPublic, 0, clientSecret, 0));
        Assert.Equal(clientSecret, secret);

        using var client = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = client.ExportParameters(false).Q;
        var (ecServerPublic, ecSecret) = SshKeyAgreement.Agree("ecdh-sha2-nistp256", [0x04, .. q.X!, .. q.Y!]);
        using var server = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = ecServerPublic[1..33], Y = ecServerPublic[33..] } });
        Assert.Equal(client.DeriveRawSecretAgreement(server.PublicKey), ecSecret);

        Assert.Throws<SshProtocolException>(() => SshKeyAgreement.Agree("curve25519-sha256", new byte[32]));
        Assert.Throws<SshProtocolException>(() => SshKeyAgreement.Agree("ecdh-sha2-nistp256", [0x04, .. new byte[64]]));
    }

    [Fact]
    public void Mpint_encoding_follows_rfc4251()
    {
        Assert.Equal("00000000", Convert.ToHexStringLower(new SshWriter().MpintUnsigned([0, 0]).ToArray()));
        Assert.Equal("000000020080", Convert.ToHexStringLower(new SshWriter().MpintUnsigned([0x80]).ToArray()));
        Assert.Equal("000000017f", Convert.ToHexStringLower(new SshWriter().MpintUnsigned([0, 0x7f]).ToArray()));
    }

    [Fact]
    public void Reader_rejects_lengths_past_the_buffer()
    {
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0, 0, 9, 1]).ReadBinary().ToArray());
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0]).ReadUInt32());
    }
}
