using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Ldap;

public sealed class LdapHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "ldap";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(389), new(636)];

    public IHoneypotService Create(ServiceContext context) => new LdapHoneypot(context);
}

/// <summary>
/// An Active Directory domain controller's LDAP (389, and LDAPS on 636; StartTLS on 389). Simple binds
/// are captured with their password and refused the way AD refuses a wrong password; NTLM binds (the
/// "sicily" exchange Windows tools and impacket use, or SASL GSS-SPNEGO / NTLM) are captured as hashcat
/// NetNTLMv2 lines. Anonymous sessions may read the rootDSE and search the decky's small domain tree
/// (persona <c>anonymous_search</c>, default true), every search logged with its filter.
/// </summary>
public sealed class LdapHoneypot : IHoneypotService
{
    /// <summary>Largest LDAP message read from a client; AD's own default is larger, but no honest request comes close.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    public const int LdapsPort = 636;
    private const string StartTlsOid = "1.3.6.1.4.1.1466.20037";
    private const string WhoAmIOid = "1.3.6.1.4.1.4203.1.11.3";
    private const string NoticeOfDisconnectionOid = "1.3.6.1.4.1.1466.20036";
    private const string PagedResultsOid = "1.2.840.113556.1.4.319";

    private readonly Lazy<SslStreamCertificateContext> _certificate;

    public LdapHoneypot(ServiceContext context)
    {
        Context = context;
        Identity = WindowsIdentity.From(context);
        Directory = new LdapDirectory(Identity, context.PersonaValue("users"), context.Time.GetUtcNow());
        AcceptBinds = string.Equals(context.PersonaValue("accept_binds"), "true", StringComparison.OrdinalIgnoreCase);
        AnonymousSearch = !string.Equals(context.PersonaValue("anonymous_search"), "false", StringComparison.OrdinalIgnoreCase);
        // Generated on first TLS use, not at construction: building a decky must stay cheap.
        _certificate = new(() => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, "ldap"), additionalCertificates: null, offline: true),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ServiceContext Context { get; }
    public WindowsIdentity Identity { get; }
    public LdapDirectory Directory { get; }

    /// <summary>Persona <c>accept_binds</c>: let any simple bind in (after capturing it) instead of refusing it.</summary>
    public bool AcceptBinds { get; }

    /// <summary>Persona <c>anonymous_search</c>: anonymous sessions may search the tree, not only the rootDSE.</summary>
    public bool AnonymousSearch { get; }

    internal SslStreamCertificateContext Certificate => _certificate.Value;

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var session = new LdapSession(this, connection);
        try
        {
            await session.RunAsync(connection.DeclaredPort == LdapsPort, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One client connection: its bind state, its NTLM exchange and its TLS layer.</summary>
    private sealed class LdapSession(LdapHoneypot server, HoneypotConnection connection) : IAsyncDisposable
    {
        private const int Success = 0;
        private const int OperationsError = 1;
        private const int ProtocolError = 2;
        private const int SizeLimitExceeded = 4;
        private const int CompareFalse = 5;
        private const int CompareTrue = 6;
        private const int SaslBindInProgress = 14;
        private const int NoSuchObject = 32;
        private const int InvalidCredentials = 49;
        private const int InsufficientAccessRights = 50;

        private const string WrongPassword = "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563\0";
        private const string BindRequired = "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563\0";
        private const string AccessDenied = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0\n\0";

        private Stream _stream = connection.Stream;
        private SslStream? _tls;
        private NtlmServer? _ntlm;
        private string? _boundAs;

        public async Task RunAsync(bool ldaps, CancellationToken cancellationToken)
        {
            if (ldaps && !await StartTlsAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            while (true)
            {
                var message = await ReadMessageAsync(cancellationToken).ConfigureAwait(false);
                if (message is null)
                {
                    return;
                }
                bool keepGoing;
                try
                {
                    keepGoing = await HandleAsync(message, cancellationToken).ConfigureAwait(false);
                }
                // The ASN.1 reader reports malformed input as content errors, and a tag of the wrong form
                // (primitive where a SEQUENCE belongs) as an argument error.
                catch (Exception ex) when (ex is AsnContentException or ArgumentException)
                {
                    connection.Emit("protocol_error", ("error", "malformed request: " + ex.Message));
                    await NoticeOfDisconnectionAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (!keepGoing)
                {
                    return;
                }
            }
        }

        /// <summary>One LDAPMessage (tag, length and body); null on hang-up or a frame that is not LDAP or too large.</summary>
        private async Task<byte[]?> ReadMessageAsync(CancellationToken cancellationToken)
        {
            var head = new byte[2];
            if (!await _stream.TryReadExactlyAsync(head, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            if (head[0] != BerWriter.Sequence)
            {
                connection.Emit("protocol_error", ("error", "not an LDAP message"), ("first_bytes", Convert.ToHexStringLower(head)));
                return null;
            }
            var length = (long)head[1];
            var lengthBytes = Array.Empty<byte>();
            if (head[1] >= 0x80)
            {
                var count = head[1] & 0x7F;
                if (count is 0 or > 4)
                {
                    connection.Emit("protocol_error", ("error", "unsupported BER length form"));
                    return null;
                }
                lengthBytes = new byte[count];
                if (!await _stream.TryReadExactlyAsync(lengthBytes, cancellationToken).ConfigureAwait(false))
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
                connection.Emit("protocol_error", ("error", "message too large"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                return null;
            }
            var message = new byte[2 + lengthBytes.Length + length];
            head.CopyTo(message, 0);
            lengthBytes.CopyTo(message, 2);
            return await _stream.TryReadExactlyAsync(message.AsMemory(2 + lengthBytes.Length), cancellationToken).ConfigureAwait(false) ? message : null;
        }

        /// <returns>False when the session ends (unbind, a refused protocol step).</returns>
        private async Task<bool> HandleAsync(byte[] message, CancellationToken cancellationToken)
        {
            var reader = new AsnReader(message, AsnEncodingRules.BER);
            var envelope = reader.ReadSequence();
            if (!envelope.TryReadInt32(out var messageId) || messageId < 0)
            {
                throw new AsnContentException("bad message id");
            }
            var operation = envelope.PeekTag();
            if (operation.TagClass != TagClass.Application)
            {
                throw new AsnContentException("not an LDAP operation");
            }
            var body = operation.IsConstructed ? envelope.ReadSequence(operation) : null;
            if (body is null)
            {
                // Unbind (NULL), Delete (the DN) and Abandon (a message id) are the primitive operations.
                var value = envelope.ReadOctetString(operation);
                switch (operation.TagValue)
                {
                    case 2:
                        return false;
                    case 10:
                        connection.Emit("write_attempt", ("operation", "delete"), ("dn", Clip(Encoding.UTF8.GetString(value))), ("bound_as", _boundAs));
                        await ResultAsync(messageId, 11, InsufficientAccessRights, "", AccessDenied, cancellationToken).ConfigureAwait(false);
                        return true;
                    case 16:
                        return true;
                    default:
                        throw new AsnContentException("unknown primitive operation");
                }
            }
            var controls = ReadControls(envelope);
            switch (operation.TagValue)
            {
                case 0:
                    return await BindAsync(messageId, body, cancellationToken).ConfigureAwait(false);
                case 3:
                    await SearchAsync(messageId, body, controls, cancellationToken).ConfigureAwait(false);
                    return true;
                case 6 or 8 or 12:
                    var target = Encoding.UTF8.GetString(body.ReadOctetString());
                    connection.Emit("write_attempt", ("operation", operation.TagValue switch { 6 => "modify", 8 => "add", _ => "modify_dn" }), ("dn", Clip(target)), ("bound_as", _boundAs));
                    await ResultAsync(messageId, operation.TagValue + 1, InsufficientAccessRights, "", AccessDenied, cancellationToken).ConfigureAwait(false);
                    return true;
                case 14:
                    await CompareAsync(messageId, body, cancellationToken).ConfigureAwait(false);
                    return true;
                case 23:
                    return await ExtendedAsync(messageId, body, cancellationToken).ConfigureAwait(false);
                default:
                    connection.Emit("protocol_error", ("error", "unsupported operation"), ("operation", operation.TagValue.ToString(CultureInfo.InvariantCulture)));
                    await NoticeOfDisconnectionAsync(cancellationToken).ConfigureAwait(false);
                    return false;
            }
        }

        /// <summary>The request's controls by OID (at most 16 read), each with its value if any.</summary>
        private static Dictionary<string, byte[]?> ReadControls(AsnReader envelope)
        {
            var controls = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
            var tag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (!envelope.HasData || !envelope.PeekTag().HasSameClassAndValue(tag))
            {
                return controls;
            }
            var list = envelope.ReadSequence(tag);
            while (list.HasData && controls.Count < 16)
            {
                var control = list.ReadSequence();
                var oid = Encoding.ASCII.GetString(control.ReadOctetString());
                if (control.HasData && control.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
                {
                    control.ReadBoolean();
                }
                controls[oid] = control.HasData ? control.ReadOctetString() : null;
            }
            return controls;
        }

        private async Task<bool> BindAsync(int messageId, AsnReader bind, CancellationToken cancellationToken)
        {
            if (!bind.TryReadInt32(out var version))
            {
                throw new AsnContentException("bad bind version");
            }
            var name = Encoding.UTF8.GetString(bind.ReadOctetString());
            var choice = bind.PeekTag();
            if (choice.TagClass != TagClass.ContextSpecific)
            {
                throw new AsnContentException("bad bind authentication");
            }
            var versionText = version.ToString(CultureInfo.InvariantCulture);
            if (version is not (2 or 3))
            {
                connection.Emit("bind", ("dn", Clip(name)), ("version", versionText), ("status", "bad_version"));
                await BindResultAsync(messageId, ProtocolError, "00002027: LdapErr: DSID-0C090B9E, comment: Unsupported LDAP version, data 0, v4563\0", null, cancellationToken).ConfigureAwait(false);
                return true;
            }
            switch (choice.TagValue)
            {
                case 0:
                    return await SimpleBindAsync(messageId, name, bind.ReadOctetString(choice), versionText, cancellationToken).ConfigureAwait(false);
                case 3:
                {
                    var sasl = bind.ReadSequence(choice);
                    var mechanism = Encoding.ASCII.GetString(sasl.ReadOctetString());
                    var credentials = sasl.HasData ? sasl.ReadOctetString() : [];
                    var spnego = mechanism.Equals("GSS-SPNEGO", StringComparison.OrdinalIgnoreCase);
                    if (spnego || mechanism.Equals("NTLM", StringComparison.OrdinalIgnoreCase))
                    {
                        return await NtlmStepAsync(messageId, name, credentials, "sasl", Clip(mechanism), spnego, cancellationToken).ConfigureAwait(false);
                    }
                    connection.Emit("bind", ("dn", Clip(name)), ("method", "sasl"), ("mechanism", Clip(mechanism)), ("version", versionText), ("status", "failed"));
                    await BindResultAsync(messageId, InvalidCredentials, WrongPassword, null, cancellationToken).ConfigureAwait(false);
                    return true;
                }
                case 9:
                    // Sicily package discovery: the packages on offer travel in matchedDN.
                    bind.ReadOctetString(choice);
                    await ResultAsync(messageId, 1, Success, "NTLM", "", cancellationToken).ConfigureAwait(false);
                    return true;
                case 10 or 11:
                    return await NtlmStepAsync(messageId, name, bind.ReadOctetString(choice), "sicily", null, spnego: false, cancellationToken).ConfigureAwait(false);
                default:
                    connection.Emit("bind", ("dn", Clip(name)), ("method", "unknown"), ("version", versionText), ("status", "failed"));
                    await BindResultAsync(messageId, 7, "00002027: LdapErr: DSID-0C090B9E, comment: AcceptSecurityContext error, data 0, v4563\0", null, cancellationToken).ConfigureAwait(false);
                    return true;
            }
        }

        private async Task<bool> SimpleBindAsync(int messageId, string name, byte[] passwordBytes, string version, CancellationToken cancellationToken)
        {
            if (passwordBytes.Length == 0)
            {
                // RFC 4513 anonymous (or unauthenticated) bind: no secret to capture.
                _boundAs = null;
                connection.Emit("bind", ("dn", Clip(name)), ("method", "simple"), ("version", version), ("status", "anonymous"));
                await BindResultAsync(messageId, Success, "", null, cancellationToken).ConfigureAwait(false);
                return true;
            }
            var password = Encoding.UTF8.GetString(passwordBytes);
            var status = server.AcceptBinds ? "success" : "failed";
            connection.Emit("bind",
                ("dn", Clip(name)), ("username", Clip(name)), ("password", Clip(password)), ("method", "simple"), ("version", version), ("status", status),
                ("tls", _tls is null ? "false" : "true"));
            if (server.AcceptBinds)
            {
                _boundAs = Clip(name);
                await BindResultAsync(messageId, Success, "", null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await BindResultAsync(messageId, InvalidCredentials, WrongPassword, null, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }

        /// <summary>
        /// One leg of an NTLM bind. NEGOTIATE is answered with our CHALLENGE (in matchedDN for sicily, in
        /// serverSaslCreds for SASL); AUTHENTICATE is captured and refused as a wrong password would be.
        /// </summary>
        private async Task<bool> NtlmStepAsync(int messageId, string name, byte[] token, string method, string? mechanism, bool spnego, CancellationToken cancellationToken)
        {
            var ntlm = Spnego.FindNtlm(token);
            if (NtlmServer.IsNtlm(ntlm, 1))
            {
                _ntlm = new NtlmServer(server.Identity);
                var challenge = _ntlm.Challenge(ntlm);
                if (method == "sicily")
                {
                    await ResultAsync(messageId, 1, Success, challenge, "", cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var creds = spnego ? Spnego.Response(Spnego.NegState.AcceptIncomplete, challenge, includeMechanism: true) : challenge;
                    await BindResultAsync(messageId, SaslBindInProgress, "", creds, cancellationToken).ConfigureAwait(false);
                }
                return true;
            }
            var capture = NtlmServer.IsNtlm(ntlm, 3) ? _ntlm?.ReadAuthenticate(ntlm) : null;
            if (capture is null)
            {
                connection.Emit("protocol_error", ("error", _ntlm is null ? "NTLM bind without negotiate" : "malformed NTLM authenticate"), ("method", method));
                await BindResultAsync(messageId, InvalidCredentials, WrongPassword, null, cancellationToken).ConfigureAwait(false);
                return true;
            }
            _ntlm = null;
            connection.Emit("bind", [("dn", Clip(name)), .. capture.Fields(), ("method", method), ("mechanism", mechanism), ("status", capture.Anonymous ? "anonymous" : "failed")]);
            if (capture.Anonymous)
            {
                await BindResultAsync(messageId, Success, "", null, cancellationToken).ConfigureAwait(false);
                return true;
            }
            await BindResultAsync(messageId, InvalidCredentials, WrongPassword, null, cancellationToken).ConfigureAwait(false);
            return true;
        }

        private async Task SearchAsync(int messageId, AsnReader search, Dictionary<string, byte[]?> controls, CancellationToken cancellationToken)
        {
            var baseDn = Encoding.UTF8.GetString(search.ReadOctetString());
            var scope = search.ReadEnumeratedValue<SearchScope>();
            search.ReadEnumeratedBytes();
            if (!search.TryReadInt32(out var sizeLimit) || !search.TryReadInt32(out _))
            {
                throw new AsnContentException("bad search limits");
            }
            var typesOnly = search.ReadBoolean();
            var filter = LdapFilter.Read(search);
            var attributes = new List<string>();
            var list = search.ReadSequence();
            while (list.HasData)
            {
                var attribute = Encoding.UTF8.GetString(list.ReadOctetString());
                if (attributes.Count < 128)
                {
                    attributes.Add(attribute);
                }
            }

            var now = connection.Context.Time.GetUtcNow();
            List<LdapEntry> found;
            if (baseDn.Length == 0 && scope == SearchScope.Base)
            {
                found = filter.Matches(server.Directory.RootDse(now)) ? [server.Directory.RootDse(now)] : [];
            }
            else if (_boundAs is null && !server.AnonymousSearch)
            {
                LogSearch(baseDn, scope, filter, attributes, 0, "bind_required", controls);
                await ResultAsync(messageId, 5, OperationsError, "", BindRequired, cancellationToken).ConfigureAwait(false);
                return;
            }
            else if (baseDn.Length > 0 && server.Directory.Find(baseDn) is null)
            {
                var matched = server.Directory.Entries.Where(e => LdapDirectory.IsWithin(baseDn, e.Dn)).MaxBy(e => e.Dn.Length)?.Dn ?? "";
                LogSearch(baseDn, scope, filter, attributes, 0, "no_such_object", controls);
                await ResultAsync(messageId, 5, NoSuchObject, matched,
                    $"0000208D: NameErr: DSID-0310028B, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'{matched}'\n\0", cancellationToken).ConfigureAwait(false);
                return;
            }
            else
            {
                found = server.Directory.Entries.Where(e => scope switch
                {
                    SearchScope.Base => LdapDirectory.SameDn(e.Dn, baseDn),
                    SearchScope.One => LdapDirectory.SameDn(e.Parent, baseDn),
                    _ => LdapDirectory.IsWithin(e.Dn, baseDn),
                } && filter.Matches(e)).ToList();
            }

            // Paged results (what AD tools send): the cookie is our offset into this result list.
            var paged = controls.TryGetValue(PagedResultsOid, out var pageRequest) && pageRequest is not null ? ReadPage(pageRequest) : null;
            var offset = paged is { } p ? Math.Min(p.Offset, found.Count) : 0;
            var take = found.Count - offset;
            if (paged is { Size: > 0 } page)
            {
                take = Math.Min(take, page.Size);
            }
            var result = Success;
            if (sizeLimit > 0 && take > sizeLimit)
            {
                take = sizeLimit;
                result = SizeLimitExceeded;
            }
            foreach (var entry in found.Skip(offset).Take(take))
            {
                await SendAsync(messageId, Entry(entry, attributes, typesOnly), null, cancellationToken).ConfigureAwait(false);
            }
            LogSearch(baseDn, scope, filter, attributes, take, result == Success ? "success" : "size_limit_exceeded", controls);
            byte[]? pageControl = null;
            if (paged is not null)
            {
                var next = offset + take < found.Count ? offset + take : 0;
                var value = new BerWriter().Push(BerWriter.Sequence).Integer(found.Count)
                    .OctetString(next == 0 ? [] : BitConverter.GetBytes(next)).Pop().ToArray();
                pageControl = new BerWriter().Push(0xA0).Push(BerWriter.Sequence).OctetString(PagedResultsOid).OctetString(value).Pop().Pop().ToArray();
            }
            await SendAsync(messageId, Result(5, result, "", ""), pageControl, cancellationToken).ConfigureAwait(false);
        }

        private static (int Size, int Offset)? ReadPage(byte[] value)
        {
            var reader = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
            var size = reader.TryReadInt32(out var s) ? Math.Clamp(s, 0, 1000) : 0;
            var cookie = reader.HasData ? reader.ReadOctetString() : [];
            var offset = cookie.Length == 4 ? Math.Max(0, BinaryPrimitives.ReadInt32LittleEndian(cookie)) : 0;
            return (size, offset);
        }

        private void LogSearch(string baseDn, SearchScope scope, LdapFilter filter, List<string> attributes, int entries, string status, Dictionary<string, byte[]?> controls) =>
            connection.Emit("search",
                ("base", Clip(baseDn)),
                ("scope", scope switch { SearchScope.Base => "base", SearchScope.One => "one", _ => "sub" }),
                ("filter", Clip(filter.ToString())),
                ("attributes", Clip(string.Join(",", attributes))),
                ("entries", entries.ToString(CultureInfo.InvariantCulture)),
                ("status", status),
                ("bound_as", _boundAs),
                ("controls", controls.Count == 0 ? null : Clip(string.Join(",", controls.Keys))));

        private static byte[] Entry(LdapEntry entry, List<string> requested, bool typesOnly)
        {
            var all = requested.Count == 0 || requested.Contains("*") || requested.Contains("+");
            var writer = new BerWriter().Push(0x64).OctetString(entry.Dn).Push(BerWriter.Sequence);
            foreach (var attribute in entry.Attributes)
            {
                if (requested.Contains("1.1") && requested.Count == 1)
                {
                    break;
                }
                if (!all && !requested.Contains(attribute.Name, StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }
                writer.Push(BerWriter.Sequence).OctetString(attribute.Name).Push(BerWriter.Set);
                if (!typesOnly)
                {
                    foreach (var value in attribute.Values)
                    {
                        writer.OctetString(value);
                    }
                }
                writer.Pop().Pop();
            }
            return writer.Pop().Pop().ToArray();
        }

        private async Task CompareAsync(int messageId, AsnReader compare, CancellationToken cancellationToken)
        {
            var dn = Encoding.UTF8.GetString(compare.ReadOctetString());
            var assertion = compare.ReadSequence();
            var attribute = Encoding.UTF8.GetString(assertion.ReadOctetString());
            var value = assertion.ReadOctetString();
            var entry = server.Directory.Find(dn);
            var result = entry is null ? NoSuchObject
                : new LdapFilter.Compare(attribute, value, "=").Matches(entry) ? CompareTrue : CompareFalse;
            connection.Emit("compare", ("dn", Clip(dn)), ("attribute", Clip(attribute)), ("value", Clip(Encoding.UTF8.GetString(value))),
                ("result", result switch { CompareTrue => "true", CompareFalse => "false", _ => "no_such_object" }));
            await ResultAsync(messageId, 15, result, "", "", cancellationToken).ConfigureAwait(false);
        }

        private async Task<bool> ExtendedAsync(int messageId, AsnReader extended, CancellationToken cancellationToken)
        {
            var oid = Encoding.ASCII.GetString(extended.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 0)));
            var name = oid switch { StartTlsOid => "StartTLS", WhoAmIOid => "WhoAmI", _ => null };
            connection.Emit("extended", ("oid", Clip(oid)), ("name", name));
            switch (oid)
            {
                case StartTlsOid when _tls is null:
                    await SendAsync(messageId, Result(24, Success, "", "", responseName: oid), null, cancellationToken).ConfigureAwait(false);
                    return await StartTlsAsync(cancellationToken).ConfigureAwait(false);
                case WhoAmIOid:
                    var identity = _boundAs is null ? "" : "u:" + server.Identity.DomainName + "\\" + _boundAs;
                    await SendAsync(messageId, Result(24, Success, "", "", responseValue: Encoding.UTF8.GetBytes(identity)), null, cancellationToken).ConfigureAwait(false);
                    return true;
                default:
                    await SendAsync(messageId, Result(24, ProtocolError, "", "0000203D: LdapErr: DSID-0C0910CE, comment: Unknown extended request OID, data 0, v4563\0"),
                        null, cancellationToken).ConfigureAwait(false);
                    return true;
            }
        }

        private async Task<bool> StartTlsAsync(CancellationToken cancellationToken)
        {
            var tls = new SslStream(_stream, leaveInnerStreamOpen: true);
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = server.Certificate,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                connection.Emit("tls_error", ("error", ex.Message));
                await tls.DisposeAsync().ConfigureAwait(false);
                return false;
            }
            connection.Emit("tls_session", ("protocol", tls.SslProtocol.ToString()), ("cipher", tls.NegotiatedCipherSuite.ToString()), ("sni", tls.TargetHostName));
            _tls = tls;
            _stream = tls;
            return true;
        }

        /// <summary>AD's answer to a message it cannot decode: an unsolicited notice, then the connection closes.</summary>
        private Task NoticeOfDisconnectionAsync(CancellationToken cancellationToken) =>
            SendAsync(0, Result(24, ProtocolError, "", "00000057: LdapErr: DSID-0C090FB8, comment: Error decoding ldap message, data 0, v4563\0", responseName: NoticeOfDisconnectionOid),
                null, cancellationToken);

        private Task BindResultAsync(int messageId, int code, string diagnostic, byte[]? serverCreds, CancellationToken cancellationToken) =>
            SendAsync(messageId, Result(1, code, "", diagnostic, serverCreds: serverCreds), null, cancellationToken);

        private Task ResultAsync(int messageId, int operation, int code, string matchedDn, string diagnostic, CancellationToken cancellationToken) =>
            SendAsync(messageId, Result(operation, code, matchedDn, diagnostic), null, cancellationToken);

        private Task ResultAsync(int messageId, int operation, int code, byte[] matchedDn, string diagnostic, CancellationToken cancellationToken)
        {
            var writer = new BerWriter().Push((byte)(0x60 | operation)).Enumerated(code).OctetString(matchedDn).OctetString(diagnostic).Pop();
            return SendAsync(messageId, writer.ToArray(), null, cancellationToken);
        }

        private static byte[] Result(int operation, int code, string matchedDn, string diagnostic, byte[]? serverCreds = null, string? responseName = null, byte[]? responseValue = null)
        {
            var writer = new BerWriter().Push((byte)(0x60 | operation)).Enumerated(code).OctetString(matchedDn).OctetString(diagnostic);
            if (serverCreds is not null)
            {
                writer.OctetString(serverCreds, 0x87);
            }
            if (responseName is not null)
            {
                writer.OctetString(responseName, 0x8A);
            }
            if (responseValue is not null)
            {
                writer.OctetString(responseValue, 0x8B);
            }
            return writer.Pop().ToArray();
        }

        private async Task SendAsync(int messageId, byte[] operation, byte[]? controls, CancellationToken cancellationToken)
        {
            var envelope = new BerWriter().Push(BerWriter.Sequence).Integer(messageId).Raw(operation).Raw(controls).Pop().ToArray();
            await _stream.WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Attacker text in events is cut to a length a log line can carry.</summary>
        private static string Clip(string value) => value.Length <= 512 ? value : value[..512];

        public async ValueTask DisposeAsync()
        {
            if (_tls is not null)
            {
                await _tls.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private enum SearchScope
    {
        Base = 0,
        One = 1,
        Sub = 2,
    }
}
