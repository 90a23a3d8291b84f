using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// UMAC (RFC 4418) with AES-128, in the 64- and 128-bit tag sizes OpenSSH offers as umac-64@openssh.com
/// and umac-128@openssh.com. The keys of the three hash layers are derived once per key; each tag is
/// UHASH of the message XOR the pad of the nonce. Messages are SSH packets (at most a few hundred KiB),
/// so the 128-bit continuation of L2 (messages over 16 MiB) is refused instead of implemented.
/// </summary>
public sealed class Umac : IDisposable
{
    private const int L1KeyBytes = 1024;
    private const int MaxMessageBytes = 16 * 1024 * 1024;
    private const ulong PrimeP64 = 0xFFFF_FFFF_FFFF_FFC5; // 2^64 - 59
    private const ulong PrimeP36 = 0xF_FFFF_FFFB; // 2^36 - 5
    private const ulong MaxWordRange64 = 0xFFFF_FFFF_0000_0000; // 2^64 - 2^32

    private readonly Aes _pdfCipher;
    private readonly int _tagLength;
    private readonly int _iterations;
    private readonly uint[] _l1Key;
    private readonly ulong[] _l2Key;
    private readonly ulong[] _l3Key1;
    private readonly uint[] _l3Key2;
    private readonly byte[] _pad = new byte[16];
    private readonly byte[] _padNonce = new byte[16];
    private bool _padValid;

    public Umac(ReadOnlySpan<byte> key, int tagLength)
    {
        if (key.Length != 16 || tagLength is not (8 or 16))
        {
            throw new ArgumentException("UMAC needs a 16-byte AES key and an 8 or 16 byte tag");
        }
        _tagLength = tagLength;
        _iterations = tagLength / 4;
        using var kdf = Aes.Create();
        kdf.Key = key.ToArray();

        _pdfCipher = Aes.Create();
        _pdfCipher.Key = Kdf(kdf, 0, 16);

        var l1 = Kdf(kdf, 1, L1KeyBytes + (_iterations - 1) * 16);
        _l1Key = new uint[l1.Length / 4];
        for (var i = 0; i < _l1Key.Length; i++)
        {
            _l1Key[i] = BinaryPrimitives.ReadUInt32BigEndian(l1.AsSpan(i * 4));
        }

        // Only the 64-bit part of each 24-byte L2 key is used: longer messages would need the 128-bit part.
        var l2 = Kdf(kdf, 2, _iterations * 24);
        _l2Key = new ulong[_iterations];
        for (var i = 0; i < _iterations; i++)
        {
            _l2Key[i] = BinaryPrimitives.ReadUInt64BigEndian(l2.AsSpan(i * 24)) & 0x01FF_FFFF_01FF_FFFFUL;
        }

        var l3a = Kdf(kdf, 3, _iterations * 64);
        _l3Key1 = new ulong[_iterations * 8];
        for (var i = 0; i < _l3Key1.Length; i++)
        {
            _l3Key1[i] = BinaryPrimitives.ReadUInt64BigEndian(l3a.AsSpan(i * 8)) % PrimeP36;
        }
        var l3b = Kdf(kdf, 4, _iterations * 4);
        _l3Key2 = new uint[_iterations];
        for (var i = 0; i < _iterations; i++)
        {
            _l3Key2[i] = BinaryPrimitives.ReadUInt32BigEndian(l3b.AsSpan(i * 4));
        }
    }

    public int TagLength => _tagLength;

    /// <summary>The tag of <paramref name="message"/> under <paramref name="nonce"/> (1 to 16 bytes; OpenSSH uses the 8-byte sequence number).</summary>
    public void Compute(ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, Span<byte> tag)
    {
        if (message.Length > MaxMessageBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(message), "UMAC input over 16 MiB is not supported");
        }
        Span<byte> hash = stackalloc byte[16];
        for (var i = 0; i < _iterations; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hash[(i * 4)..], UHashIteration(i, message));
        }
        Pad(nonce, out var offset);
        for (var i = 0; i < _tagLength; i++)
        {
            tag[i] = (byte)(hash[i] ^ _pad[offset + i]);
        }
    }

    /// <summary>RFC 4418 §3.2 KDF: AES(K, index as 8 bytes || counter as 8 bytes) blocks.</summary>
    private static byte[] Kdf(Aes aes, ulong index, int length)
    {
        var blocks = (length + 15) / 16;
        var input = new byte[blocks * 16];
        for (var i = 0; i < blocks; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(i * 16), index);
            BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(i * 16 + 8), (ulong)(i + 1));
        }
        return aes.EncryptEcb(input, PaddingMode.None)[..length];
    }

    /// <summary>
    /// RFC 4418 §3.3 PDF: AES of the nonce (its low bit cleared for 8-byte tags, zero-padded to a block);
    /// for 8-byte tags the cleared bit picks which half of the block is the pad. Consecutive sequence
    /// numbers share a block, so the last one is cached.
    /// </summary>
    private void Pad(ReadOnlySpan<byte> nonce, out int offset)
    {
        Span<byte> block = stackalloc byte[16];
        block.Clear();
        nonce.CopyTo(block);
        offset = 0;
        if (_tagLength == 8)
        {
            offset = (block[nonce.Length - 1] & 1) * 8;
            block[nonce.Length - 1] &= 0xFE;
        }
        if (_padValid && block.SequenceEqual(_padNonce))
        {
            return;
        }
        _pdfCipher.EncryptEcb(block, _pad, PaddingMode.None);
        block.CopyTo(_padNonce);
        _padValid = true;
    }

    /// <summary>One 32-bit output of UHASH (RFC 4418 §5): L1 (NH), L2 (POLY) for long messages, L3.</summary>
    private uint UHashIteration(int iteration, ReadOnlySpan<byte> message)
    {
        var keyOffset = iteration * 4;
        ulong high;
        ulong low;
        if (message.Length <= L1KeyBytes)
        {
            high = 0;
            low = L1Chunk(keyOffset, message);
        }
        else
        {
            var y = 1UL;
            var k = _l2Key[iteration];
            for (var start = 0; start < message.Length; start += L1KeyBytes)
            {
                var chunk = message.Slice(start, Math.Min(L1KeyBytes, message.Length - start));
                var m = L1Chunk(keyOffset, chunk);
                if (m >= MaxWordRange64)
                {
                    y = PolyStep(k, y, PrimeP64 - 1);
                    y = PolyStep(k, y, m - 59);
                }
                else
                {
                    y = PolyStep(k, y, m);
                }
            }
            high = 0;
            low = y;
        }
        return L3(iteration, high, low);
    }

    private static ulong PolyStep(ulong k, ulong y, ulong m) =>
        (ulong)((((UInt128)k * y) + m) % PrimeP64);

    /// <summary>NH over one chunk (zero-padded to a positive multiple of 32 bytes) plus its bit length.</summary>
    private ulong L1Chunk(int keyOffset, ReadOnlySpan<byte> chunk)
    {
        var padded = Math.Max(32, (chunk.Length + 31) / 32 * 32);
        Span<byte> buffer = stackalloc byte[L1KeyBytes];
        buffer[..padded].Clear();
        chunk.CopyTo(buffer);
        var y = 0UL;
        var key = _l1Key.AsSpan(keyOffset);
        for (var i = 0; i < padded / 4; i += 8)
        {
            for (var j = 0; j < 4; j++)
            {
                var a = BinaryPrimitives.ReadUInt32LittleEndian(buffer[((i + j) * 4)..]) + key[i + j];
                var b = BinaryPrimitives.ReadUInt32LittleEndian(buffer[((i + j + 4) * 4)..]) + key[i + j + 4];
                y += (ulong)a * b;
            }
        }
        return y + (ulong)chunk.Length * 8;
    }

    /// <summary>L3: the 16-byte L2 output as eight 16-bit words, inner product mod 2^36-5, low 32 bits XOR key.</summary>
    private uint L3(int iteration, ulong high, ulong low)
    {
        var keys = _l3Key1.AsSpan(iteration * 8, 8);
        UInt128 sum = 0;
        for (var i = 0; i < 4; i++)
        {
            sum += (UInt128)((high >> (48 - 16 * i)) & 0xFFFF) * keys[i];
            sum += (UInt128)((low >> (48 - 16 * i)) & 0xFFFF) * keys[4 + i];
        }
        var y = (ulong)(sum % PrimeP36);
        return (uint)y ^ _l3Key2[iteration];
    }

    public void Dispose() => _pdfCipher.Dispose();
}
