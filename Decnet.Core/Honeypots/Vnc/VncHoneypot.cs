using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Vnc;

public sealed class VncHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "vnc";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(5900)];

    public IHoneypotService Create(ServiceContext context) => new VncHoneypot(context);
}

/// <summary>
/// An RFB 3.8 server offering only VNC authentication: it sends a random 16-byte challenge, records the
/// client's DES response (crackable offline: John's <c>$vnc$*challenge*response</c>), and answers
/// "Authentication failed". RFB 3.3 clients get the server-chosen security type of that version.
/// </summary>
public sealed class VncHoneypot(ServiceContext context) : IHoneypotService
{
    public ServiceContext Context { get; } = context;

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var version = new byte[12];
        if (!await stream.TryReadExactlyAsync(version, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var text = Encoding.ASCII.GetString(version);
        if (!text.StartsWith("RFB ", StringComparison.Ordinal) || text[^1] != '\n')
        {
            connection.Emit("protocol_error", ("error", "bad protocol version"), ("data", Convert.ToHexStringLower(version)));
            return;
        }
        var clientVersion = text[4..11];
        connection.Emit("version", ("client_version", clientVersion));
        var legacy = string.CompareOrdinal(clientVersion, "003.007") < 0;
        if (legacy)
        {
            // RFB 3.3: the server decides; security type 2 (VNC authentication) as a 32-bit word.
            await stream.WriteAsync(new byte[] { 0, 0, 0, 2 }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await stream.WriteAsync(new byte[] { 1, 2 }, cancellationToken).ConfigureAwait(false);
            var choice = new byte[1];
            if (!await stream.TryReadExactlyAsync(choice, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            connection.Emit("security_choice", ("type", choice[0].ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (choice[0] != 2)
            {
                await FailAsync(stream, "Security type not supported", cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        var challenge = RandomNumberGenerator.GetBytes(16);
        await stream.WriteAsync(challenge, cancellationToken).ConfigureAwait(false);
        var response = new byte[16];
        if (!await stream.TryReadExactlyAsync(response, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var challengeHex = Convert.ToHexStringLower(challenge);
        var responseHex = Convert.ToHexStringLower(response);
        connection.Emit("auth_response",
            ("challenge", challengeHex),
            ("response", responseHex),
            ("client_version", clientVersion),
            ("hash", $"$vnc$*{challengeHex.ToUpperInvariant()}*{responseHex.ToUpperInvariant()}"),
            ("hash_type", "vnc"));
        await FailAsync(stream, legacy ? null : "Authentication failed", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SecurityResult "failed" (1), with the reason string from RFB 3.8 on.</summary>
    private static async Task FailAsync(Stream stream, string? reason, CancellationToken cancellationToken)
    {
        var packet = new PacketBuilder().U32BigEndian(1);
        if (reason is not null)
        {
            packet.U32BigEndian((uint)reason.Length).Ascii(reason);
        }
        await stream.WriteAsync(packet.ToArray(), cancellationToken).ConfigureAwait(false);
    }
}
