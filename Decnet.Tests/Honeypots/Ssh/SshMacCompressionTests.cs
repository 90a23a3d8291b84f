using System.Text;
using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>UMAC against RFC 4418's test vectors, and the bounds of zlib@openssh.com decompression.</summary>
public sealed class SshMacCompressionTests
{
    // RFC 4418 Appendix: key "abcdefghijklmnop", nonce "bcdefghi". (The interop tests with the OpenSSH
    // client check the SSH use: sequence number as nonce, etm and classic layouts.)
    [Theory]
    [InlineData("", 1, "6E155FAD26900BE1", "32FEDB100C79AD58F07FF7643CC60465")]
    [InlineData("a", 3, "44B5CB542F220104", "185E4FE905CBA7BD85E4C2DC3D117D8D")]
    [InlineData("a", 1024, "26BF2F5D60118BD9", "7A54ABE04AF82D60FB298C3CBD195BCB")]
    [InlineData("a", 32768, "27F8EF643B0D118D", "7B136BD911E4B734286EF2BE501F2C3C")]
    public void Umac_matches_the_rfc_4418_test_vectors(string unit, int repeat, string umac64, string umac128)
    {
        var key = "abcdefghijklmnop"u8.ToArray();
        var nonce = "bcdefghi"u8.ToArray();
        var message = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(unit, repeat)));
        var tag64 = new byte[8];
        var tag128 = new byte[16];

        using (var umac = new Umac(key, 8))
        {
            umac.Compute(message, nonce, tag64);
        }
        using (var umac = new Umac(key, 16))
        {
            umac.Compute(message, nonce, tag128);
        }

        Assert.Equal(umac64, Convert.ToHexString(tag64));
        Assert.Equal(umac128, Convert.ToHexString(tag128));
    }

    [Fact]
    public void Umac_64_tags_of_neighbouring_sequence_numbers_differ_although_they_share_a_pad_block()
    {
        using var mac = new UmacSshMac("0123456789abcdef"u8.ToArray(), 8);
        var data = "same packet"u8.ToArray();
        var even = new byte[8];
        var odd = new byte[8];

        mac.Compute(6, data, even);
        mac.Compute(7, data, odd);

        Assert.NotEqual(even, odd);
    }

    [Fact]
    public void Zlib_packets_round_trip_in_one_stream_and_shrink()
    {
        using var compressor = new SshCompressor();
        using var decompressor = new SshDecompressor();
        for (var i = 0; i < 50; i++)
        {
            var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"packet {i} of a chatty shell; ", 40)));
            var compressed = compressor.Compress(payload);
            Assert.True(compressed.Length < payload.Length / 4);
            Assert.Equal(payload, decompressor.Decompress(compressed, SshPacketStream.MaxPacketLength));
        }
    }

    [Fact]
    public void A_zlib_bomb_is_refused_once_a_packet_would_inflate_past_the_packet_limit()
    {
        using var compressor = new SshCompressor();
        // 64 MiB of zeros deflate to about 64 KiB: one packet that would expand a thousandfold.
        var bomb = compressor.Compress(new byte[64 * 1024 * 1024]);
        Assert.True(bomb.Length < SshPacketStream.MaxPacketLength);
        using var decompressor = new SshDecompressor();

        var error = Assert.Throws<SshProtocolException>(() => decompressor.Decompress(bomb, SshPacketStream.MaxPacketLength));

        Assert.Contains("too large", error.Message);
    }

    [Fact]
    public void Garbage_in_a_compressed_stream_is_a_protocol_error()
    {
        using var decompressor = new SshDecompressor();

        Assert.Throws<SshProtocolException>(() => decompressor.Decompress([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37], SshPacketStream.MaxPacketLength));
    }
}
