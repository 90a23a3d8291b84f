using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Rdp;

public sealed class RdpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "rdp";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(3389)];

    public IHoneypotService Create(ServiceContext context) => new RdpHoneypot(context);
}

/// <summary>
/// A Windows Server remote desktop endpoint that requires Network Level Authentication: the X.224
/// connection request (with its <c>mstshash</c> cookie) is answered as Windows 10 / Server 2019 answers
/// it, TLS follows, and the CredSSP exchange runs NTLM far enough to capture the user, domain and a
/// hashcat NetNTLMv2 line, then reports STATUS_LOGON_FAILURE as a wrong password would.
/// Clients that cannot do NLA get the negotiation failure "hybrid required by server".
/// </summary>
public sealed class RdpHoneypot : IHoneypotService
{
    /// <summary>Largest X.224 connection request or CredSSP message read from a client.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private const uint ProtocolSsl = 0x1;
    private const uint ProtocolHybrid = 0x2;
    private const uint ProtocolRdstls = 0x4;
    private const uint ProtocolHybridEx = 0x8;
    private const int HybridRequiredByServer = 5;
    private const int StatusLogonFailure = unchecked((int)0xC000006D);
    private const int MaxCredSspRounds = 4;

    private readonly Lazy<SslStreamCertificateContext> _certificate;

    public RdpHoneypot(ServiceContext context)
    {
        Context = context;
        Identity = WindowsIdentity.From(context);
        // Generated on first TLS use, not at construction: building a decky must stay cheap.
        _certificate = new(() => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, "rdp"), additionalCertificates: null, offline: true),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ServiceContext Context { get; }
    public WindowsIdentity Identity { get; }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var request = await ReadConnectionRequestAsync(connection, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }
        var (cookie, requested) = request.Value;
        var nla = requested is { } protocols && (protocols & ProtocolHybrid) != 0;
        connection.Emit("connection_request",
            ("cookie", cookie),
            ("username", cookie is not null && cookie.StartsWith("mstshash=", StringComparison.Ordinal) ? cookie[9..] : null),
            ("requested_protocols", requested is null ? "none" : Protocols(requested.Value)),
            ("selected_protocol", nla ? "hybrid" : "refused"));
        if (!nla)
        {
            await connection.Stream.WriteAsync(ConnectionConfirm(0x03, 0, HybridRequiredByServer), cancellationToken).ConfigureAwait(false);
            return;
        }
        // Flags as Windows 10 sends them: extended client data, GFX, restricted admin and redirected auth supported.
        await connection.Stream.WriteAsync(ConnectionConfirm(0x02, 0x1F, ProtocolHybrid), cancellationToken).ConfigureAwait(false);

        var tls = new SslStream(connection.Stream, leaveInnerStreamOpen: true);
        await using (tls.ConfigureAwait(false))
        {
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _certificate.Value,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                connection.Emit("tls_error", ("error", ex.Message));
                return;
            }
            connection.Emit("tls_session", ("protocol", tls.SslProtocol.ToString()), ("cipher", tls.NegotiatedCipherSuite.ToString()));
            await CredSspAsync(connection, tls, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The TPKT + X.224 connection request: its cookie and the RDP_NEG_REQ protocols (null when absent); null if not RDP.</summary>
    private static async Task<(string? Cookie, uint? Requested)?> ReadConnectionRequestAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        if (!await connection.Stream.TryReadExactlyAsync(header, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        if (header[0] != 3 || length < 11 || length > 4096)
        {
            connection.Emit("protocol_error", ("error", "not a TPKT connection request"), ("first_bytes", Convert.ToHexStringLower(header)));
            return null;
        }
        var tpdu = new byte[length - 4];
        if (!await connection.Stream.TryReadExactlyAsync(tpdu, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var indicator = tpdu[0];
        if ((tpdu[1] & 0xF0) != 0xE0 || indicator < 6 || indicator + 1 > tpdu.Length)
        {
            connection.Emit("protocol_error", ("error", "not an X.224 connection request"), ("first_bytes", Convert.ToHexStringLower(tpdu.AsSpan(0, Math.Min(16, tpdu.Length)))));
            return null;
        }
        var variable = tpdu.AsSpan(7, indicator - 6);
        string? cookie = null;
        if (variable.StartsWith("Cookie: "u8))
        {
            var end = variable.IndexOf("\r\n"u8);
            var text = end < 0 ? variable[8..] : variable[8..end];
            cookie = Printable(text[..Math.Min(text.Length, 256)]);
            variable = end < 0 ? [] : variable[(end + 2)..];
        }
        uint? requested = null;
        if (variable.Length >= 8 && variable[0] == 0x01)
        {
            requested = BinaryPrimitives.ReadUInt32LittleEndian(variable[4..]);
        }
        return (cookie, requested);
    }

    private static byte[] ConnectionConfirm(byte type, byte flags, uint value)
    {
        var packet = new PacketBuilder(19);
        packet.U8(3).U8(0).U16BigEndian(19).U8(14).U8(0xD0).U16BigEndian(0).U16BigEndian(0x1234).U8(0);
        packet.U8(type).U8(flags).U16(8).U32(value);
        return packet.ToArray();
    }

    /// <summary>
    /// The CredSSP (MS-CSSP) exchange: NEGOTIATE answered with our CHALLENGE, AUTHENTICATE captured and
    /// refused. Tokens go back in the form the client used (raw NTLMSSP or SPNEGO).
    /// </summary>
    private async Task CredSspAsync(HoneypotConnection connection, Stream tls, CancellationToken cancellationToken)
    {
        NtlmServer? ntlm = null;
        for (var round = 0; round < MaxCredSspRounds; round++)
        {
            var message = await ReadDerAsync(tls, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                return;
            }
            TsRequest request;
            try
            {
                request = TsRequest.Read(message);
            }
            catch (Exception ex) when (ex is AsnContentException or ArgumentException)
            {
                connection.Emit("protocol_error", ("error", "malformed TSRequest: " + ex.Message));
                return;
            }
            var version = Math.Clamp(request.Version, 2, 6);
            var token = Spnego.FindNtlm(request.NegoToken);
            if (NtlmServer.IsNtlm(token, 1))
            {
                ntlm = new NtlmServer(Identity);
                var challenge = ntlm.Challenge(token);
                var wrapped = request.NegoToken.Length > 0 && request.NegoToken[0] is 0x60 or 0xA0 or 0xA1
                    ? Spnego.Response(Spnego.NegState.AcceptIncomplete, challenge, includeMechanism: true)
                    : challenge;
                await tls.WriteAsync(TsRequest.Write(version, wrapped, null), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var capture = ntlm is not null && NtlmServer.IsNtlm(token, 3) ? ntlm.ReadAuthenticate(token) : null;
            if (capture is null)
            {
                connection.Emit("protocol_error", ("error", ntlm is null ? "CredSSP without NTLM negotiate" : "malformed NTLM authenticate"),
                    ("credssp_version", request.Version.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            connection.Emit("auth", [.. capture.Fields(), ("credssp_version", request.Version.ToString(CultureInfo.InvariantCulture)), ("status", "failed")]);
            if (version >= 3)
            {
                await tls.WriteAsync(TsRequest.Write(version, null, StatusLogonFailure), cancellationToken).ConfigureAwait(false);
            }
            return;
        }
    }

    /// <summary>One DER element (a TSRequest) from the TLS stream; null on hang-up, a non-SEQUENCE or an oversized one.</summary>
    private static async Task<byte[]?> ReadDerAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new byte[2];
        if (!await stream.TryReadExactlyAsync(head, cancellationToken).ConfigureAwait(false) || head[0] != 0x30)
        {
            return null;
        }
        var lengthBytes = Array.Empty<byte>();
        long length = head[1];
        if (head[1] >= 0x80)
        {
            var count = head[1] & 0x7F;
            if (count is 0 or > 3)
            {
                return null;
            }
            lengthBytes = new byte[count];
            if (!await stream.TryReadExactlyAsync(lengthBytes, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            length = 0;
            foreach (var b in lengthBytes)
            {
                length = (length << 8) | b;
            }
        }
        if (length > MaxMessageBytes)
        {
            return null;
        }
        var message = new byte[2 + lengthBytes.Length + length];
        head.CopyTo(message, 0);
        lengthBytes.CopyTo(message, 2);
        return await stream.TryReadExactlyAsync(message.AsMemory(2 + lengthBytes.Length), cancellationToken).ConfigureAwait(false) ? message : null;
    }

    private static string Protocols(uint requested)
    {
        var names = new List<string>(4);
        if ((requested & ProtocolSsl) != 0)
        {
            names.Add("ssl");
        }
        if ((requested & ProtocolHybrid) != 0)
        {
            names.Add("hybrid");
        }
        if ((requested & ProtocolRdstls) != 0)
        {
            names.Add("rdstls");
        }
        if ((requested & ProtocolHybridEx) != 0)
        {
            names.Add("hybrid_ex");
        }
        return names.Count == 0 ? "rdp" : string.Join(",", names);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            builder.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }
        return builder.ToString();
    }

    /// <summary>The CredSSP TSRequest fields a honeypot needs: version and the first NTLM/SPNEGO token.</summary>
    private readonly record struct TsRequest(int Version, byte[] NegoToken)
    {
        private static Asn1Tag Context(int tag) => new(TagClass.ContextSpecific, tag, isConstructed: true);

        public static TsRequest Read(byte[] message)
        {
            var sequence = new AsnReader(message, AsnEncodingRules.BER).ReadSequence();
            var version = sequence.ReadSequence(Context(0)).TryReadInt32(out var v) ? v : throw new AsnContentException("bad version");
            byte[] token = [];
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag.HasSameClassAndValue(Context(1)))
                {
                    var tokens = sequence.ReadSequence(Context(1)).ReadSequence();
                    if (tokens.HasData)
                    {
                        token = tokens.ReadSequence().ReadSequence(Context(0)).ReadOctetString();
                    }
                }
                else
                {
                    sequence.ReadEncodedValue();
                }
            }
            return new TsRequest(version, token);
        }

        public static byte[] Write(int version, byte[]? token, int? errorCode)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                using (writer.PushSequence(Context(0)))
                {
                    writer.WriteInteger(version);
                }
                if (token is not null)
                {
                    using (writer.PushSequence(Context(1)))
                    using (writer.PushSequence())
                    using (writer.PushSequence())
                    using (writer.PushSequence(Context(0)))
                    {
                        writer.WriteOctetString(token);
                    }
                }
                if (errorCode is not null)
                {
                    using (writer.PushSequence(Context(4)))
                    {
                        writer.WriteInteger(errorCode.Value);
                    }
                }
            }
            return writer.Encode();
        }
    }
}
