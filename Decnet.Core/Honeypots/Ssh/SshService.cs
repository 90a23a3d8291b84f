using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Shell;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>Catalog entry of the SSH honeypot: port 22, one <see cref="SshService"/> per decky.</summary>
public sealed class SshServiceFactory : IHoneypotServiceFactory
{
    public string Name => "ssh";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(22)];

    public IHoneypotService Create(ServiceContext context) => new SshService(context);
}

/// <summary>
/// The SSH honeypot of one decky. Host keys live in <c>StateDirectory</c> and are created on first use;
/// shell recordings go to <c>StateDirectory/recordings</c>; uploads to <c>ArtifactsDirectory/&lt;decky&gt;/ssh</c>.
/// </summary>
public sealed class SshService(ServiceContext context) : IHoneypotService
{
    // Loaded (or generated: RSA-3072 takes seconds on a busy host) in the background from creation on,
    // so the first attacker does not wait for it the way no real sshd would make them wait.
    private readonly Task<SshHostKeys> _hostKeys = Task.Run(() => SshHostKeys.LoadOrCreate(context.StateDirectory));

    public ServiceContext Context => context;

    /// <summary>Our connect carries the client version and HASSH, so the host's generic one is left out.</summary>
    public bool PublishesConnect => true;

    public SshPersona Persona { get; } = SshPersona.From(context);

    private IReadOnlyDictionary<string, ShellNode>? _personaFiles;

    /// <summary>Built once per decky on first login (races build it twice at worst; both are identical).</summary>
    private IReadOnlyDictionary<string, ShellNode> PersonaFiles =>
        _personaFiles ??= PersonaFileSystem.Build(Persona.Hostname, context.Distro, Persona.Credentials.Keys, context.Time.GetUtcNow());

    public Task<SshHostKeys> HostKeysAsync => _hostKeys;

    public ShellFileSystem CreateFileSystem() => new(PersonaFiles, context.Time);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var session = new SshServerSession(this, connection, cancellationToken);
        await using (session.ConfigureAwait(false))
        {
            await session.RunAsync().ConfigureAwait(false);
        }
    }
}
