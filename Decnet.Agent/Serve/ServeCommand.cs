using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Agent.Serve;

/// <summary>
/// <c>decnet-agent serve [--config /etc/decnet/decnet.ini]</c> (or DECNET_CONFIG): the worker agent.
/// Settings or identity problems (including a certificate whose CN is not the configured name) are
/// printed, each located, and exit with 2 before anything listens.
/// </summary>
public static class ServeCommand
{
    public const int ExitOk = 0;
    public const int ExitUsage = 2;

    public const string Usage =
        """
        usage: decnet-agent serve [--config PATH] [--no-forwarder]
          Runs the worker agent: the mutual-TLS control API for the master, the deckies, the event spool,
          the heartbeat and (unless --no-forwarder, when the decnet-forwarder unit ships the spool) the
          log forwarder. PATH defaults to $DECNET_CONFIG, else /etc/decnet/decnet.ini.
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, Func<string, string?> environment, TextWriter stderr)
    {
        string? configPath = null;
        var withForwarder = true;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    await stderr.WriteLineAsync(Usage);
                    return ExitOk;
                case "--no-forwarder":
                    withForwarder = false;
                    break;
                case "--config" when i + 1 < args.Count:
                    configPath = args[++i];
                    break;
                case var arg when arg.StartsWith("--config=", StringComparison.Ordinal):
                    configPath = arg["--config=".Length..];
                    break;
                default:
                    await stderr.WriteLineAsync($"decnet-agent serve: unexpected argument '{args[i]}'.\n{Usage}");
                    return ExitUsage;
            }
        }
        configPath ??= environment(AgentServeSettings.ConfigVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : AgentServeSettings.DefaultConfigPath;

        string text;
        try
        {
            text = await File.ReadAllTextAsync(configPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"decnet-agent serve: cannot read {configPath}: {ex.Message}");
            return ExitUsage;
        }

        AgentServeSettings settings;
        try
        {
            settings = AgentServeSettings.Parse(text);
        }
        catch (IniValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                await stderr.WriteLineAsync($"decnet-agent serve: {configPath}: {error}");
            }
            return ExitUsage;
        }

        var (identity, identityError) = AgentIdentity.Load(settings.Host.CertificatePath, settings.Host.KeyPath, settings.Host.CaCertificatePath);
        if (identity is null)
        {
            await stderr.WriteLineAsync($"decnet-agent serve: {identityError}");
            return ExitUsage;
        }

        // Another worker's files copied here would heartbeat as that worker: its name must be ours.
        var commonName = SwarmTrust.CommonName(identity.Certificate);
        if (!string.Equals(commonName, settings.Host.Name, StringComparison.Ordinal))
        {
            identity.Dispose();
            await stderr.WriteLineAsync($"decnet-agent serve: {settings.Host.CertificatePath} is the certificate of '{commonName}', but {configPath} [agent] name is '{settings.Host.Name}'; install this worker's own bundle");
            return ExitUsage;
        }

        using (identity)
        {
            await using var app = AgentApplication.Build(settings, identity, withForwarder);
            await app.RunAsync();
        }
        return ExitOk;
    }
}
