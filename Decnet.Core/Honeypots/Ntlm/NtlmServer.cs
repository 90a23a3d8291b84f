using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Ntlm;

/// <summary>The Windows identity a decky claims in NTLM challenges (and SMB, RDP, LDAP banners).</summary>
/// <param name="ComputerName">NetBIOS computer name, upper case (at most 15 characters).</param>
/// <param name="DomainName">NetBIOS domain or workgroup name, upper case.</param>
/// <param name="DnsDomainName">DNS domain, e.g. corp.local.</param>
public sealed record WindowsIdentity(string ComputerName, string DomainName, string DnsDomainName)
{
    public string DnsComputerName => ComputerName.ToLowerInvariant() + "." + DnsDomainName;

    /// <summary>
    /// From persona keys <c>domain</c> (DNS form, default corp.local) and <c>netbios_domain</c>, and the
    /// decky hostname cut to a NetBIOS name.
    /// </summary>
    public static WindowsIdentity From(Hosting.ServiceContext context)
    {
        var dns = context.PersonaValue("domain") ?? "corp.local";
        var netbiosDomain = context.PersonaValue("netbios_domain") ?? dns.Split('.')[0];
        return new WindowsIdentity(NetBiosName(context.Hostname), NetBiosName(netbiosDomain), dns.ToLowerInvariant());
    }

    /// <summary>Upper case, first label, characters NetBIOS allows, at most 15.</summary>
    public static string NetBiosName(string name)
    {
        var label = name.Split('.')[0].ToUpperInvariant();
        var builder = new StringBuilder(15);
        foreach (var c in label)
        {
            if (builder.Length == 15)
            {
                break;
            }
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-');
        }
        return builder.Length == 0 ? "WORKSTATION" : builder.ToString();
    }
}

/// <summary>
/// What the client proved in its NTLM AUTHENTICATE message: who it claims to be and the response to our
/// challenge, formatted the way hashcat and John take it (NetNTLMv2 mode 5600, NetNTLMv1 mode 5500).
/// </summary>
public sealed record NtlmCapture(
    string User,
    string Domain,
    string Workstation,
    string Version,
    string? Hash,
    int? HashcatMode,
    bool Anonymous,
    string? ClientOs)
{
    /// <summary>The event fields every NTLM-speaking service reports.</summary>
    public (string Key, string? Value)[] Fields() =>
    [
        ("username", User),
        ("domain", Domain),
        ("workstation", Workstation),
        ("ntlm_version", Version),
        ("hash", Hash),
        ("hash_type", HashcatMode switch { 5600 => "netntlmv2", 5500 => "netntlmv1", _ => null }),
        ("hashcat_mode", HashcatMode?.ToString(CultureInfo.InvariantCulture)),
        ("anonymous", Anonymous ? "true" : null),
        ("client_os", ClientOs),
    ];
}

/// <summary>
/// The server side of NTLMSSP (MS-NLMP) for a honeypot: answers NEGOTIATE with a CHALLENGE carrying the
/// decky's names and a random server challenge, and reads the AUTHENTICATE message into an
/// <see cref="NtlmCapture"/>. It never verifies anything: there is no password to verify against.
/// Every offset and length in the client's messages is checked before use.
/// </summary>
public sealed class NtlmServer(WindowsIdentity identity)
{
    public static ReadOnlySpan<byte> Signature => "NTLMSSP\0"u8;

    private const uint NegotiateUnicode = 0x00000001;
    private const uint NegotiateOem = 0x00000002;
    private const uint RequestTarget = 0x00000004;
    private const uint NegotiateSign = 0x00000010;
    private const uint NegotiateSeal = 0x00000020;
    private const uint NegotiateNtlm = 0x00000200;
    private const uint NegotiateAlwaysSign = 0x00008000;
    private const uint TargetTypeDomain = 0x00010000;
    private const uint ExtendedSessionSecurity = 0x00080000;
    private const uint NegotiateTargetInfo = 0x00800000;
    private const uint NegotiateVersion = 0x02000000;
    private const uint Negotiate128 = 0x20000000;
    private const uint NegotiateKeyExchange = 0x40000000;
    private const uint Negotiate56 = 0x80000000;

    public byte[] ServerChallenge { get; } = RandomNumberGenerator.GetBytes(8);

    public static bool IsNtlm(ReadOnlySpan<byte> message, int type) =>
        message.Length >= 12 && message[..8].SequenceEqual(Signature) && BinaryPrimitives.ReadUInt32LittleEndian(message[8..]) == (uint)type;

    /// <summary>Builds the CHALLENGE (type 2) answering a NEGOTIATE (type 1); a malformed negotiate gets the default flags.</summary>
    public byte[] Challenge(ReadOnlySpan<byte> negotiate)
    {
        var clientFlags = IsNtlm(negotiate, 1) && negotiate.Length >= 16 ? BinaryPrimitives.ReadUInt32LittleEndian(negotiate[12..]) : 0xE2088297u;
        var flags = NegotiateUnicode | RequestTarget | NegotiateNtlm | NegotiateAlwaysSign | TargetTypeDomain | ExtendedSessionSecurity
            | NegotiateTargetInfo | NegotiateVersion | Negotiate128 | Negotiate56
            | (clientFlags & (NegotiateSign | NegotiateSeal | NegotiateKeyExchange));
        if ((clientFlags & NegotiateUnicode) == 0 && (clientFlags & NegotiateOem) != 0)
        {
            flags = (flags & ~NegotiateUnicode) | NegotiateOem;
        }

        var targetName = Encoding.Unicode.GetBytes(identity.DomainName);
        var targetInfo = TargetInfo();
        const int payloadOffset = 56;
        var message = new byte[payloadOffset + targetName.Length + targetInfo.Length];
        var span = message.AsSpan();
        Signature.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 2);
        WriteField(span[12..], targetName.Length, payloadOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], flags);
        ServerChallenge.CopyTo(span[24..]);
        WriteField(span[40..], targetInfo.Length, payloadOffset + targetName.Length);
        // Version: Windows 10 / Server 2016+ build 17763 (Server 2019), NTLM revision 15.
        span[48] = 10;
        span[49] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(span[50..], 17763);
        span[55] = 15;
        targetName.CopyTo(span[payloadOffset..]);
        targetInfo.CopyTo(span[(payloadOffset + targetName.Length)..]);
        return message;
    }

    private byte[] TargetInfo()
    {
        using var buffer = new MemoryStream();
        void Pair(ushort id, ReadOnlySpan<byte> value)
        {
            Span<byte> header = stackalloc byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(header, id);
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)value.Length);
            buffer.Write(header);
            buffer.Write(value);
        }
        Pair(2, Encoding.Unicode.GetBytes(identity.DomainName));
        Pair(1, Encoding.Unicode.GetBytes(identity.ComputerName));
        Pair(4, Encoding.Unicode.GetBytes(identity.DnsDomainName));
        Pair(3, Encoding.Unicode.GetBytes(identity.DnsComputerName));
        Pair(5, Encoding.Unicode.GetBytes(identity.DnsDomainName));
        // No MsvAvTimestamp: with it, clients add a MIC and then demand an SPNEGO mechListMIC signed with
        // the session key, which only a server knowing the password could produce.
        Pair(0, []);
        return buffer.ToArray();
    }

    private static void WriteField(Span<byte> at, int length, int offset)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(at[4..], (uint)offset);
    }

    /// <summary>Reads an AUTHENTICATE (type 3) message; null when it is not one or a field points outside it.</summary>
    public NtlmCapture? ReadAuthenticate(ReadOnlySpan<byte> message)
    {
        if (!IsNtlm(message, 3) || message.Length < 64)
        {
            return null;
        }
        if (!TryField(message, 12, out var lm) || !TryField(message, 20, out var nt) || !TryField(message, 28, out var domainBytes)
            || !TryField(message, 36, out var userBytes) || !TryField(message, 44, out var workstationBytes))
        {
            return null;
        }
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(message[60..]);
        var encoding = (flags & NegotiateUnicode) != 0 ? Encoding.Unicode : Encoding.Latin1;
        var user = Clean(encoding.GetString(userBytes));
        var domain = Clean(encoding.GetString(domainBytes));
        var workstation = Clean(encoding.GetString(workstationBytes));
        string? clientOs = null;
        // The version field follows the fixed fields when the client sets NEGOTIATE_VERSION and left room for it.
        if ((flags & NegotiateVersion) != 0 && message.Length >= 72 && FirstPayloadOffset(message) >= 72)
        {
            clientOs = string.Create(CultureInfo.InvariantCulture, $"{message[64]}.{message[65]}.{BinaryPrimitives.ReadUInt16LittleEndian(message[66..])}");
        }

        // MS-NLMP anonymous: no NT response and an empty or one-zero-byte LM response (Samba still names the user).
        var anonymous = nt.Length == 0 && (lm.Length == 0 || (lm.Length == 1 && lm[0] == 0));
        string version;
        string? hash = null;
        int? mode = null;
        var challenge = Convert.ToHexStringLower(ServerChallenge);
        if (nt.Length > 24)
        {
            version = "NTLMv2";
            hash = $"{user}::{domain}:{challenge}:{Convert.ToHexStringLower(nt[..16])}:{Convert.ToHexStringLower(nt[16..])}";
            mode = 5600;
        }
        else if (nt.Length == 24)
        {
            version = "NTLMv1";
            hash = $"{user}::{domain}:{Convert.ToHexStringLower(lm)}:{Convert.ToHexStringLower(nt)}:{challenge}";
            mode = 5500;
        }
        else
        {
            version = anonymous ? "anonymous" : "none";
        }
        return new NtlmCapture(user, domain, workstation, version, hash, mode, anonymous, clientOs);
    }

    private static int FirstPayloadOffset(ReadOnlySpan<byte> message)
    {
        var first = int.MaxValue;
        for (var at = 12; at <= 52; at += 8)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(message[(at + 4)..]);
            if (length > 0 && offset < first)
            {
                first = (int)Math.Min(offset, int.MaxValue);
            }
        }
        return first;
    }

    private static bool TryField(ReadOnlySpan<byte> message, int at, out ReadOnlySpan<byte> value)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(message[(at + 4)..]);
        if (length == 0)
        {
            value = [];
            return true;
        }
        if (offset > (uint)message.Length || length > message.Length - (int)offset)
        {
            value = [];
            return false;
        }
        value = message.Slice((int)offset, length);
        return true;
    }

    /// <summary>Control characters would break the hashcat line; ':' would shift its fields.</summary>
    private static string Clean(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsControl(c) || c == ':' ? '_' : c);
        }
        return builder.ToString();
    }
}
