using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Shell;
using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Core.Honeypots.Telnet;

/// <summary>Catalog entry of the Telnet honeypot: port 23.</summary>
public sealed class TelnetServiceFactory : IHoneypotServiceFactory
{
    public string Name => "telnet";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(23)];

    public IHoneypotService Create(ServiceContext context) => new TelnetService(context);
}

/// <summary>
/// A busybox-telnetd-like login: <c>&lt;hostname&gt; login:</c> / <c>Password:</c>, every attempt captured,
/// three tries, then the same emulated shell as SSH. Persona keys: <c>users</c>, <c>password</c>,
/// <c>failure_delay_ms</c> (as for SSH), <c>max_recording_bytes</c>.
/// </summary>
public sealed class TelnetService(ServiceContext context) : IHoneypotService
{
    public const int MaxLoginTries = 3;

    public ServiceContext Context => context;

    public SshPersona Persona { get; } = SshPersona.From(context);

    private IReadOnlyDictionary<string, ShellNode>? _personaFiles;

    private IReadOnlyDictionary<string, ShellNode> PersonaFiles =>
        _personaFiles ??= PersonaFileSystem.Build(Persona.Hostname, context.Distro, Persona.Credentials.Keys, context.Time.GetUtcNow());

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var telnet = new TelnetStream(connection.Stream);
        var reason = "closed by client";
        var user = default(string);
        try
        {
            await telnet.NegotiateAsync(cancellationToken).ConfigureAwait(false);
            user = await LoginAsync(connection, telnet, cancellationToken).ConfigureAwait(false);
            if (user is null)
            {
                reason = "too many login failures";
                return;
            }
            await RunShellAsync(connection, telnet, user, cancellationToken).ConfigureAwait(false);
            reason = "logout";
        }
        catch (Exception error) when (error is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            reason = error is OperationCanceledException ? "timeout" : "connection lost";
        }
        finally
        {
            // The host publishes the one connect and disconnect of the connection; this adds the login to it.
            connection.SetDisconnectDetails(("detail", reason), ("username", user));
        }
    }

    private async Task<string?> LoginAsync(HoneypotConnection connection, TelnetStream telnet, CancellationToken cancellationToken)
    {
        var distro = PersonaFileSystem.Distro(context.Distro);
        await telnet.WriteAsync("\r\n" + distro.PrettyName + "\r\n", cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < MaxLoginTries; attempt++)
        {
            string user;
            do
            {
                await telnet.WriteAsync(Persona.Hostname + " login: ", cancellationToken).ConfigureAwait(false);
                user = (await telnet.ReadLineAsync(echo: true, 256, cancellationToken).ConfigureAwait(false)).Trim();
            }
            while (user.Length == 0);
            await telnet.WriteAsync("Password: ", cancellationToken).ConfigureAwait(false);
            var password = await telnet.ReadLineAsync(echo: false, 256, cancellationToken).ConfigureAwait(false);
            await telnet.WriteAsync("\r\n", cancellationToken).ConfigureAwait(false);
            var success = Persona.Accepts(user, password);
            connection.Emit("auth_attempt", null, success ? EventSeverity.Notice : EventSeverity.Informational,
                ("username", user), ("password", password), ("method", "password"), ("result", success ? "success" : "failure"));
            if (success)
            {
                return user;
            }
            // login(1) with PAM sleeps before saying so; awaited, so no thread waits with it.
            await Task.Delay(Persona.JitteredFailureDelay(), context.Time, cancellationToken).ConfigureAwait(false);
            await telnet.WriteAsync("Login incorrect\r\n", cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    private async Task RunShellAsync(HoneypotConnection connection, TelnetStream telnet, string user, CancellationToken cancellationToken)
    {
        var interpreter = new CommandInterpreter(new ShellContext
        {
            Hostname = Persona.Hostname,
            User = user,
            Distro = PersonaFileSystem.Distro(context.Distro),
            FileSystem = new ShellFileSystem(PersonaFiles, context.Time),
            Time = context.Time,
            RemoteIp = connection.RemoteIp,
            Emit = (type, fields) => connection.Emit(type, fields),
        });
        var recorder = await AsciicastRecorder.TryStartAsync(connection, 0, telnet.Columns, telnet.Rows, "vt100", PersonaFileSystem.Distro(context.Distro).Shell,
            Persona.MaxRecordingBytes, user, cancellationToken).ConfigureAwait(false);
        try
        {
            async Task Write(string text, CancellationToken token)
            {
                if (recorder is not null)
                {
                    await recorder.OutputAsync(text, token).ConfigureAwait(false);
                }
                await telnet.WriteAsync(text, token).ConfigureAwait(false);
            }
            var terminal = new InteractiveTerminal(interpreter, Write, context.Limits.MaxLineLength);
            await terminal.StartAsync(PersonaFileSystem.LoginBanner(context.Distro, Persona.Hostname, context.Time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var data = await telnet.ReadDataAsync(cancellationToken).ConfigureAwait(false);
                if (recorder is not null)
                {
                    await recorder.InputAsync(Encoding.UTF8.GetString(data.Span), cancellationToken).ConfigureAwait(false);
                }
                if (!await terminal.FeedAsync(data, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            if (recorder is not null)
            {
                await recorder.DisposeAsync().ConfigureAwait(false);
                connection.Emit(AsciicastRecorder.RecordedEvent, recorder.RecordedFields(user, connection.SessionId));
            }
        }
    }
}
