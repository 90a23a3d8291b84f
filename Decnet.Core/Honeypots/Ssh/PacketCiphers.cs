using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// One direction of the binary packet protocol (RFC 4253 §6) under one cipher/MAC suite. Reading is two
/// steps because the length must be known before the rest of the packet can be read from the socket.
/// </summary>
public interface IPacketCipher : IDisposable
{
    /// <summary>Padding alignment.</summary>
    int BlockSize { get; }

    /// <summary>True when the 4-byte length is outside the aligned region (AEAD and encrypt-then-MAC modes).</summary>
    bool LengthOutsideAlignment { get; }

    /// <summary>Bytes read from the wire before <see cref="ReadLength"/> can run.</summary>
    int FirstBlockSize { get; }

    /// <summary>MAC or tag bytes following the packet.</summary>
    int TagSize { get; }

    uint ReadLength(uint sequence, ReadOnlySpan<byte> firstBlock);

    /// <summary>Verifies and decrypts a whole wire packet (length, body, tag); returns padding_length||payload||padding.</summary>
    byte[] Open(uint sequence, byte[] wire);

    /// <summary>Encrypts a plaintext packet (length||padding_length||payload||padding) and appends its tag.</summary>
    byte[] Seal(uint sequence, ReadOnlySpan<byte> packet);
}

/// <summary>Before the first NEWKEYS: cleartext packets.</summary>
public sealed class NoneCipher : IPacketCipher
{
    public int BlockSize => 8;
    public bool LengthOutsideAlignment => false;
    public int FirstBlockSize => 4;
    public int TagSize => 0;

    public uint ReadLength(uint sequence, ReadOnlySpan<byte> firstBlock) => BinaryPrimitives.ReadUInt32BigEndian(firstBlock);

    public byte[] Open(uint sequence, byte[] wire) => wire[4..];

    public byte[] Seal(uint sequence, ReadOnlySpan<byte> packet) => packet.ToArray();

    public void Dispose()
    {
    }
}

/// <summary>AES in counter mode (RFC 4344), built on ECB encryption of the counter blocks.</summary>
public sealed class AesCtr : IDisposable
{
    private readonly Aes _aes;
    private readonly byte[] _counter = new byte[16];
    private readonly byte[] _keystream = new byte[16 * 32];
    private int _keystreamOffset;
    private int _keystreamLength;

    public AesCtr(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        iv[..16].CopyTo(_counter);
    }

    public void Transform(ReadOnlySpan<byte> input, Span<byte> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            if (_keystreamOffset == _keystreamLength)
            {
                Refill();
            }
            output[i] = (byte)(input[i] ^ _keystream[_keystreamOffset++]);
        }
    }

    private void Refill()
    {
        var blocks = new byte[_keystream.Length];
        for (var offset = 0; offset < blocks.Length; offset += 16)
        {
            _counter.CopyTo(blocks, offset);
            for (var i = 15; i >= 0 && ++_counter[i] == 0; i--)
            {
            }
        }
        _aes.EncryptEcb(blocks, _keystream, PaddingMode.None);
        _keystreamOffset = 0;
        _keystreamLength = _keystream.Length;
    }

    public void Dispose() => _aes.Dispose();
}

/// <summary>
/// The MAC of a non-AEAD suite: HMAC over sequence||data (RFC 4253 §6.4), or UMAC over data with the
/// sequence number as its 8-byte nonce (OpenSSH's umac-*@openssh.com).
/// </summary>
public interface ISshMac : IDisposable
{
    int Size { get; }

    void Compute(uint sequence, ReadOnlySpan<byte> data, Span<byte> tag);
}

public sealed class HmacSshMac(HashAlgorithmName hash, byte[] key) : ISshMac
{
    private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(hash, key);

    public int Size { get; } = hash == HashAlgorithmName.SHA512 ? 64 : hash == HashAlgorithmName.SHA1 ? 20 : 32;

    public void Compute(uint sequence, ReadOnlySpan<byte> data, Span<byte> tag)
    {
        Span<byte> seq = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(seq, sequence);
        _hmac.AppendData(seq);
        _hmac.AppendData(data);
        _hmac.GetHashAndReset(tag);
    }

    public void Dispose() => _hmac.Dispose();
}

public sealed class UmacSshMac(byte[] key, int size) : ISshMac
{
    private readonly Umac _umac = new(key, size);

    public int Size => size;

    public void Compute(uint sequence, ReadOnlySpan<byte> data, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, sequence);
        _umac.Compute(data, nonce, tag);
    }

    public void Dispose() => _umac.Dispose();
}

/// <summary>aes*-ctr with a MAC, in classic MAC-then-encrypt or OpenSSH's -etm@openssh.com layout.</summary>
public sealed class CtrMacCipher(byte[] key, byte[] iv, ISshMac mac, bool encryptThenMac) : IPacketCipher
{
    private readonly AesCtr _ctr = new(key, iv);
    private readonly byte[] _firstPlain = new byte[16];

    public int BlockSize => 16;
    public bool LengthOutsideAlignment => encryptThenMac;
    public int FirstBlockSize => encryptThenMac ? 4 : 16;
    public int TagSize => mac.Size;

    public uint ReadLength(uint sequence, ReadOnlySpan<byte> firstBlock)
    {
        if (encryptThenMac)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(firstBlock);
        }
        _ctr.Transform(firstBlock, _firstPlain);
        return BinaryPrimitives.ReadUInt32BigEndian(_firstPlain);
    }

    public byte[] Open(uint sequence, byte[] wire)
    {
        var bodyEnd = wire.Length - TagSize;
        var tag = wire.AsSpan(bodyEnd);
        Span<byte> expected = stackalloc byte[TagSize];
        if (encryptThenMac)
        {
            mac.Compute(sequence, wire.AsSpan(0, bodyEnd), expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, tag))
            {
                throw new SshProtocolException("MAC error", SshProtocolException.MacError);
            }
            var body = new byte[bodyEnd - 4];
            _ctr.Transform(wire.AsSpan(4, body.Length), body);
            return body;
        }
        var plain = new byte[bodyEnd];
        _firstPlain.CopyTo(plain, 0);
        _ctr.Transform(wire.AsSpan(16, bodyEnd - 16), plain.AsSpan(16));
        mac.Compute(sequence, plain, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, tag))
        {
            throw new SshProtocolException("MAC error", SshProtocolException.MacError);
        }
        return plain[4..];
    }

    public byte[] Seal(uint sequence, ReadOnlySpan<byte> packet)
    {
        var wire = new byte[packet.Length + TagSize];
        if (encryptThenMac)
        {
            packet[..4].CopyTo(wire);
            _ctr.Transform(packet[4..], wire.AsSpan(4, packet.Length - 4));
            mac.Compute(sequence, wire.AsSpan(0, packet.Length), wire.AsSpan(packet.Length));
        }
        else
        {
            mac.Compute(sequence, packet, wire.AsSpan(packet.Length));
            _ctr.Transform(packet, wire.AsSpan(0, packet.Length));
        }
        return wire;
    }

    public void Dispose()
    {
        _ctr.Dispose();
        mac.Dispose();
    }
}

/// <summary>aes128-gcm@openssh.com / aes256-gcm@openssh.com (RFC 5647 with OpenSSH's naming): the length is AAD.</summary>
public sealed class AesGcmCipher(byte[] key, byte[] iv) : IPacketCipher
{
    private readonly AesGcm _gcm = new(key, 16);
    private readonly byte[] _nonce = iv[..12];

    public int BlockSize => 16;
    public bool LengthOutsideAlignment => true;
    public int FirstBlockSize => 4;
    public int TagSize => 16;

    public uint ReadLength(uint sequence, ReadOnlySpan<byte> firstBlock) => BinaryPrimitives.ReadUInt32BigEndian(firstBlock);

    public byte[] Open(uint sequence, byte[] wire)
    {
        var body = new byte[wire.Length - 4 - 16];
        try
        {
            _gcm.Decrypt(_nonce, wire.AsSpan(4, body.Length), wire.AsSpan(wire.Length - 16), body, wire.AsSpan(0, 4));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SshProtocolException("MAC error", SshProtocolException.MacError);
        }
        NextNonce();
        return body;
    }

    public byte[] Seal(uint sequence, ReadOnlySpan<byte> packet)
    {
        var wire = new byte[packet.Length + 16];
        packet[..4].CopyTo(wire);
        _gcm.Encrypt(_nonce, packet[4..], wire.AsSpan(4, packet.Length - 4), wire.AsSpan(packet.Length), packet[..4]);
        NextNonce();
        return wire;
    }

    /// <summary>RFC 5647 §7.1: the 64-bit invocation counter in the low bytes of the nonce increments per packet.</summary>
    private void NextNonce()
    {
        var counter = BinaryPrimitives.ReadUInt64BigEndian(_nonce.AsSpan(4));
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), counter + 1);
    }

    public void Dispose() => _gcm.Dispose();
}

/// <summary>
/// chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305): the second half of the 64-byte key
/// encrypts the length, the first half the body; the Poly1305 key is the first keystream block of the
/// body key; the nonce is the packet sequence number.
/// </summary>
public sealed class ChaChaPolyCipher(byte[] key) : IPacketCipher
{
    private readonly byte[] _mainKey = key[..32];
    private readonly byte[] _headerKey = key[32..64];

    public int BlockSize => 8;
    public bool LengthOutsideAlignment => true;
    public int FirstBlockSize => 4;
    public int TagSize => 16;

    public uint ReadLength(uint sequence, ReadOnlySpan<byte> firstBlock)
    {
        var plain = new byte[4];
        Header(sequence).ProcessBytes(firstBlock.ToArray(), 0, 4, plain, 0);
        return BinaryPrimitives.ReadUInt32BigEndian(plain);
    }

    public byte[] Open(uint sequence, byte[] wire)
    {
        var bodyLength = wire.Length - 4 - 16;
        var (engine, polyKey) = Body(sequence);
        var expected = Tag(polyKey, wire.AsSpan(0, 4 + bodyLength));
        if (!CryptographicOperations.FixedTimeEquals(expected, wire.AsSpan(4 + bodyLength)))
        {
            throw new SshProtocolException("MAC error", SshProtocolException.MacError);
        }
        var body = new byte[bodyLength];
        engine.ProcessBytes(wire, 4, bodyLength, body, 0);
        return body;
    }

    public byte[] Seal(uint sequence, ReadOnlySpan<byte> packet)
    {
        var plain = packet.ToArray();
        var wire = new byte[plain.Length + 16];
        Header(sequence).ProcessBytes(plain, 0, 4, wire, 0);
        var (engine, polyKey) = Body(sequence);
        engine.ProcessBytes(plain, 4, plain.Length - 4, wire, 4);
        Tag(polyKey, wire.AsSpan(0, plain.Length)).CopyTo(wire, plain.Length);
        return wire;
    }

    private ChaChaEngine Header(uint sequence)
    {
        var engine = new ChaChaEngine(20);
        engine.Init(true, new ParametersWithIV(new KeyParameter(_headerKey), Nonce(sequence)));
        return engine;
    }

    private (ChaChaEngine Engine, byte[] PolyKey) Body(uint sequence)
    {
        var engine = new ChaChaEngine(20);
        engine.Init(true, new ParametersWithIV(new KeyParameter(_mainKey), Nonce(sequence)));
        // Block 0 gives the Poly1305 key; consuming all 64 bytes leaves the engine at block counter 1.
        var block = new byte[64];
        engine.ProcessBytes(new byte[64], 0, 64, block, 0);
        return (engine, block[..32]);
    }

    private static byte[] Tag(byte[] polyKey, ReadOnlySpan<byte> data)
    {
        var mac = new Poly1305();
        mac.Init(new KeyParameter(polyKey));
        mac.BlockUpdate(data);
        var tag = new byte[16];
        mac.DoFinal(tag, 0);
        return tag;
    }

    private static byte[] Nonce(uint sequence)
    {
        var nonce = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, sequence);
        return nonce;
    }

    public void Dispose()
    {
    }
}
