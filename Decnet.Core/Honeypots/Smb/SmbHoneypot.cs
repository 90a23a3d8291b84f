using System.Globalization;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Smb;

public sealed class SmbHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "smb";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(445), new(139)];

    public IHoneypotService Create(ServiceContext context) => new SmbHoneypot(context);
}

/// <summary>
/// A Windows file server over SMB2/3 (dialects 2.0.2 to 3.0.2) on 445 and NetBIOS 139. Every NTLM login is
/// captured as a hashcat NetNTLMv2 (or v1) line and then let in as guest, so the intruder goes on to list
/// shares (srvsvc over IPC$) and browse the read-only bait share, each step logged. An SMB1-only
/// negotiate gets the Windows 7-10 NT LM 0.12 answer scanners fingerprint, then the connection ends.
/// </summary>
public sealed class SmbHoneypot : IHoneypotService
{
    /// <summary>Largest frame read from a client: the 64 KiB transfers we advertise plus headers.</summary>
    public const int MaxFrameBytes = 64 * 1024 + 4096;

    public SmbHoneypot(ServiceContext context)
    {
        Context = context;
        Identity = WindowsIdentity.From(context);
        ShareName = context.PersonaValue("share") ?? "Shared";
        Tree = new SmbShareTree(Identity.ComputerName, Identity.DnsDomainName);
        Shares =
        [
            new SmbShareInfo("ADMIN$", 0x8000_0000, "Remote Admin"),
            new SmbShareInfo("C$", 0x8000_0000, "Default share"),
            new SmbShareInfo("IPC$", 0x8000_0003, "Remote IPC"),
            new SmbShareInfo(ShareName, 0, context.PersonaValue("share_comment") ?? "Department files"),
        ];
        ServerGuid = Guid.NewGuid();
    }

    public ServiceContext Context { get; }
    public WindowsIdentity Identity { get; }
    public string ShareName { get; }
    public SmbShareTree Tree { get; }
    public IReadOnlyList<SmbShareInfo> Shares { get; }
    public Guid ServerGuid { get; }
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow.AddDays(-17);

    public Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken) =>
        new SmbSession(this, connection).RunAsync(cancellationToken);

    internal static string Hex(uint value) => "0x" + value.ToString("x4", CultureInfo.InvariantCulture);
}
