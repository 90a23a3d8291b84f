using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Core.Honeypots.Mail;

/// <summary>What the IMAP and POP3 deckies share: logins, the bait mailbox, TLS and SASL decoding.</summary>
public sealed class MailServer : IDisposable
{
    private readonly Lazy<SslStreamCertificateContext> _certificate;

    public MailServer(ServiceContext context, string serviceName)
    {
        Context = context;
        Users = PersonaCredentials.Parse(context.PersonaValue("users"), MailBait.DefaultUsers);
        Domain = MailBait.DomainOf(context.Hostname, context.PersonaValue("domain"));
        Messages = MailBait.For(context.Hostname, Domain);
        // Generated on first TLS use: building a decky stays cheap.
        _certificate = new Lazy<SslStreamCertificateContext>(
            () => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, serviceName), additionalCertificates: null, offline: true),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ServiceContext Context { get; }

    public IReadOnlyDictionary<string, string> Users { get; }

    public string Domain { get; }

    public IReadOnlyList<MailMessage> Messages { get; }

    /// <summary>Dovecot's greeting text: Ubuntu's package names itself, the others say what a source build says.</summary>
    public string Greeting => Context.PersonaValue("banner")
        ?? (Context.Distro.StartsWith("ubuntu", StringComparison.OrdinalIgnoreCase) ? "Dovecot (Ubuntu) ready." : "Dovecot ready.");

    /// <summary>The TLS handshake of an implicit-TLS port or after STARTTLS/STLS; null (and a <c>tls_error</c> event) when it fails.</summary>
    public async Task<SslStream?> AcceptTlsAsync(HoneypotConnection connection, Stream stream, CancellationToken cancellationToken)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: true);
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
            await tls.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        connection.Emit("tls_session", ("protocol", tls.SslProtocol.ToString()), ("cipher", tls.NegotiatedCipherSuite.ToString()), ("sni", tls.TargetHostName));
        return tls;
    }

    /// <summary>SASL PLAIN (RFC 4616): base64 of authzid NUL authcid NUL password; null when malformed.</summary>
    public static (string Username, string Password)? DecodePlain(string base64)
    {
        var text = DecodeBase64(base64);
        if (text is null)
        {
            return null;
        }
        var parts = text.Split('\0');
        return parts.Length == 3 ? (parts[1], parts[2]) : null;
    }

    public static string? DecodeBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written) : null;
    }

    public static string Truncate(string? text, int max) => text is null ? string.Empty : text.Length <= max ? text : text[..max];

    public void Dispose()
    {
        if (_certificate.IsValueCreated)
        {
            _certificate.Value.TargetCertificate.Dispose();
        }
    }
}
