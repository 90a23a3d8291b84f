using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// Client-side messages of the Windows / directory protocols, built byte by byte from their specs (MS-SMB2,
/// MS-NLMP, MS-TDS, RFC 4511, MS-RDPBCGR/MS-CSSP, RFC 6143), for the protocol clients of the fuzz tests and
/// the family benchmark where no real client can be driven fast or mutated.
/// </summary>
public static class WindowsWire
{
    /// <summary>An SMB2 message (64-byte header, then the body) in its NetBIOS session frame.</summary>
    public static byte[] Smb2Frame(ushort command, ulong messageId, ulong sessionId, byte[] body, uint treeId = 0, uint next = 0)
    {
        var length = 64 + body.Length;
        var frame = new byte[4 + length];
        frame[1] = (byte)(length >> 16);
        frame[2] = (byte)(length >> 8);
        frame[3] = (byte)length;
        var message = frame.AsSpan(4);
        message[0] = 0xFE;
        "SMB"u8.CopyTo(message[1..]);
        message[4] = 64;
        BinaryPrimitives.WriteUInt16LittleEndian(message[12..], command);
        BinaryPrimitives.WriteUInt16LittleEndian(message[14..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(message[20..], next);
        BinaryPrimitives.WriteUInt64LittleEndian(message[24..], messageId);
        BinaryPrimitives.WriteUInt32LittleEndian(message[36..], treeId);
        BinaryPrimitives.WriteUInt64LittleEndian(message[40..], sessionId);
        body.CopyTo(message[64..]);
        return frame;
    }

    /// <summary>NEGOTIATE offering SMB 2.0.2 and 2.1.</summary>
    public static byte[] SmbNegotiate(ulong messageId = 0) =>
        Smb2Frame(0x0000, messageId, 0, [36, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, .. Guid.NewGuid().ToByteArray(), 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x02, 0x10, 0x02]);

    /// <summary>SESSION_SETUP carrying a security token (raw NTLMSSP or SPNEGO) right after its fixed part.</summary>
    public static byte[] SmbSessionSetup(ulong messageId, ulong sessionId, byte[] token)
    {
        var body = new byte[24 + token.Length];
        body[0] = 25;
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(12), 64 + 24);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(14), (ushort)token.Length);
        token.CopyTo(body, 24);
        return Smb2Frame(0x0001, messageId, sessionId, body);
    }

    public static async Task<byte[]> ReadNetBiosFrameAsync(Stream stream)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header);
        var frame = new byte[(header[1] << 16) | (header[2] << 8) | header[3]];
        await stream.ReadExactlyAsync(frame);
        return frame;
    }

    /// <summary>NTLM NEGOTIATE (type 1) with the flags Windows clients send.</summary>
    public static byte[] NtlmNegotiate() => [.. "NTLMSSP\0"u8, 1, 0, 0, 0, 0x97, 0x82, 0x08, 0xE2, .. new byte[16]];

    /// <summary>
    /// NTLM AUTHENTICATE (type 3) with a NetNTLMv2-shaped response: a random 16-byte proof, then the client
    /// blob (version, timestamp, client challenge, an empty AV list). A decky records it either way.
    /// </summary>
    public static byte[] NtlmAuthenticate(string user, string domain, string workstation = "KALI")
    {
        byte[] nt = [.. RandomNumberGenerator.GetBytes(16), 1, 1, 0, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(DateTime.UtcNow.ToFileTimeUtc()), .. RandomNumberGenerator.GetBytes(8), 0, 0, 0, 0, 0, 0, 0, 0];
        var fields = new[] { new byte[24], nt, Encoding.Unicode.GetBytes(domain), Encoding.Unicode.GetBytes(user), Encoding.Unicode.GetBytes(workstation), Array.Empty<byte>() };
        var message = new byte[64 + fields.Sum(f => f.Length)];
        "NTLMSSP\0"u8.CopyTo(message);
        message[8] = 3;
        var offset = 64;
        for (var i = 0; i < fields.Length; i++)
        {
            var at = 12 + (i * 8);
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), (ushort)fields[i].Length);
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at + 2), (ushort)fields[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at + 4), (uint)offset);
            fields[i].CopyTo(message, offset);
            offset += fields[i].Length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(60), 0xE2088215);
        return message;
    }

    /// <summary>A TDS packet holding a whole message (status end-of-message).</summary>
    public static byte[] TdsPacket(byte type, byte[] payload) =>
        [type, 1, (byte)((payload.Length + 8) >> 8), (byte)(payload.Length + 8), 0, 0, 1, 0, .. payload];

    /// <summary>PRELOGIN with VERSION and ENCRYPTION (not supported), as FreeTDS sends it.</summary>
    public static byte[] TdsPrelogin() => TdsPacket(0x12, [0, 0, 11, 0, 6, 1, 0, 17, 0, 1, 0xFF, 15, 0, 0x10, 0x39, 0, 0, 2]);

    /// <summary>LOGIN7 with host, user, password (scrambled as TDS does: nibbles swapped, XOR 0xA5) and application name.</summary>
    public static byte[] TdsLogin7(string user, string password)
    {
        var strings = new (int At, byte[] Bytes)[]
        {
            (36, Encoding.Unicode.GetBytes("KALI")),
            (40, Encoding.Unicode.GetBytes(user)),
            (44, Encoding.Unicode.GetBytes(password).Select(b => (byte)(((b << 4) | (b >> 4)) ^ 0xA5)).ToArray()),
            (48, Encoding.Unicode.GetBytes("sqlspray")),
        };
        var login = new byte[94 + strings.Sum(s => s.Bytes.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(login, (uint)login.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(login.AsSpan(4), 0x74000004);
        BinaryPrimitives.WriteUInt32LittleEndian(login.AsSpan(8), 4096);
        var offset = 94;
        foreach (var (at, bytes) in strings)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(login.AsSpan(at), (ushort)offset);
            BinaryPrimitives.WriteUInt16LittleEndian(login.AsSpan(at + 2), (ushort)(bytes.Length / 2));
            bytes.CopyTo(login, offset);
            offset += bytes.Length;
        }
        return TdsPacket(0x10, login);
    }

    /// <summary>An LDAP simple bind request.</summary>
    public static byte[] LdapSimpleBind(int messageId, string dn, string password)
    {
        var writer = new AsnWriter(AsnEncodingRules.BER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(messageId);
            using (writer.PushSequence(new Asn1Tag(TagClass.Application, 0, isConstructed: true)))
            {
                writer.WriteInteger(3);
                writer.WriteOctetString(Encoding.UTF8.GetBytes(dn));
                writer.WriteOctetString(Encoding.UTF8.GetBytes(password), new Asn1Tag(TagClass.ContextSpecific, 0));
            }
        }
        return writer.Encode();
    }

    /// <summary>An LDAP search request whose filter is written by <paramref name="filter"/>.</summary>
    public static byte[] LdapSearch(int messageId, string baseDn, int scope, Action<AsnWriter> filter, params string[] attributes)
    {
        var writer = new AsnWriter(AsnEncodingRules.BER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(messageId);
            using (writer.PushSequence(new Asn1Tag(TagClass.Application, 3, isConstructed: true)))
            {
                writer.WriteOctetString(Encoding.UTF8.GetBytes(baseDn));
                writer.WriteEnumeratedValue((LdapScope)scope);
                writer.WriteEnumeratedValue(LdapDeref.Never);
                writer.WriteInteger(0);
                writer.WriteInteger(0);
                writer.WriteBoolean(false);
                filter(writer);
                using (writer.PushSequence())
                {
                    foreach (var attribute in attributes)
                    {
                        writer.WriteOctetString(Encoding.UTF8.GetBytes(attribute));
                    }
                }
            }
        }
        return writer.Encode();
    }

    /// <summary>(attribute=*)</summary>
    public static void Present(AsnWriter writer, string attribute) =>
        writer.WriteOctetString(Encoding.UTF8.GetBytes(attribute), new Asn1Tag(TagClass.ContextSpecific, 7));

    /// <summary>(attribute=value)</summary>
    public static void Equal(AsnWriter writer, string attribute, string value)
    {
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true)))
        {
            writer.WriteOctetString(Encoding.UTF8.GetBytes(attribute));
            writer.WriteOctetString(Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>The kerberoasting filter of impacket's GetUserSPNs: persons with an SPN that are not disabled.</summary>
    public static void KerberoastFilter(AsnWriter writer)
    {
        using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
        {
            Equal(writer, "objectCategory", "person");
            Present(writer, "servicePrincipalName");
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true)))
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 9, isConstructed: true)))
            {
                writer.WriteOctetString("1.2.840.113556.1.4.803"u8, new Asn1Tag(TagClass.ContextSpecific, 1));
                writer.WriteOctetString("userAccountControl"u8, new Asn1Tag(TagClass.ContextSpecific, 2));
                writer.WriteOctetString("2"u8, new Asn1Tag(TagClass.ContextSpecific, 3));
            }
        }
    }

    /// <summary>(|(cn=adm*)(sAMAccountName=*svc*sql))</summary>
    public static void SubstringFilter(AsnWriter writer)
    {
        using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true)))
            {
                writer.WriteOctetString("cn"u8);
                using (writer.PushSequence())
                {
                    writer.WriteOctetString("adm"u8, new Asn1Tag(TagClass.ContextSpecific, 0));
                }
            }
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true)))
            {
                writer.WriteOctetString("sAMAccountName"u8);
                using (writer.PushSequence())
                {
                    writer.WriteOctetString("svc"u8, new Asn1Tag(TagClass.ContextSpecific, 1));
                    writer.WriteOctetString("sql"u8, new Asn1Tag(TagClass.ContextSpecific, 2));
                }
            }
        }
    }

    private enum LdapScope
    {
        Base = 0,
        OneLevel = 1,
        Subtree = 2,
    }

    private enum LdapDeref
    {
        Never = 0,
    }

    /// <summary>Reads one BER element (an LDAP message, a TSRequest) whole.</summary>
    public static async Task<byte[]> ReadBerMessageAsync(Stream stream)
    {
        var head = new byte[2];
        await stream.ReadExactlyAsync(head);
        var lengthBytes = Array.Empty<byte>();
        var length = (int)head[1];
        if (head[1] >= 0x80)
        {
            lengthBytes = new byte[head[1] & 0x7F];
            await stream.ReadExactlyAsync(lengthBytes);
            length = lengthBytes.Aggregate(0, (n, b) => (n << 8) | b);
        }
        var message = new byte[2 + lengthBytes.Length + length];
        head.CopyTo(message, 0);
        lengthBytes.CopyTo(message, 2);
        await stream.ReadExactlyAsync(message.AsMemory(2 + lengthBytes.Length));
        return message;
    }

    /// <summary>TPKT + X.224 connection request with an mstshash cookie and an RDP_NEG_REQ for the given protocols.</summary>
    public static byte[] X224ConnectionRequest(string user, uint protocols)
    {
        var cookie = Encoding.ASCII.GetBytes($"Cookie: mstshash={user}\r\n");
        byte[] request = [3, 0, 0, 0, (byte)(6 + cookie.Length + 8), 0xE0, 0, 0, 0, 0, 0, .. cookie, 1, 0, 8, 0, (byte)protocols, (byte)(protocols >> 8), (byte)(protocols >> 16), (byte)(protocols >> 24)];
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(2), (ushort)request.Length);
        return request;
    }

    /// <summary>A CredSSP TSRequest (version 6) carrying one NTLM token.</summary>
    public static byte[] TsRequest(byte[] token)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteInteger(6);
            }
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
            using (writer.PushSequence())
            using (writer.PushSequence())
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteOctetString(token);
            }
        }
        return writer.Encode();
    }

    /// <summary>Connects to an RDP decky offering NLA and completes the TLS handshake (any certificate accepted, as mstsc's "connect anyway").</summary>
    public static async Task<SslStream> RdpTlsAsync(Stream stream, string user)
    {
        await stream.WriteAsync(X224ConnectionRequest(user, 0x0B));
        await stream.ReadExactlyAsync(new byte[19]);
        var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "rdp" });
        return tls;
    }
}
