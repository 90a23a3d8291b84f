using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;

namespace Decnet.Agent.Shipping;

/// <summary>
/// Ships the worker's event spool to the master for the life of the agent process: used by
/// <c>decnet-agent forward</c> (the decnet-forwarder unit) and registered by <c>serve</c> with
/// <see cref="LogForwarderServices.AddLogForwarder"/>.
/// </summary>
public sealed class LogForwarderService(AgentHostSettings settings, ILogger<LogForwarder> logger) : BackgroundService
{
    public const string SpoolFileName = "decnet.log";

    public LogForwarder? Forwarder { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var trust = SwarmTrust.FromFile(settings.CaCertificatePath);
        using var identity = IssuedIdentity.Load(settings.CertificatePath, settings.KeyPath).ToCertificate();
        Forwarder = new LogForwarder(ForwarderSettings(settings, () => PinnedTls.CreateClientOptions(identity, trust, settings.MasterFingerprint, targetHost: null)), logger);
        await Forwarder.RunAsync(stoppingToken).ConfigureAwait(false);
    }

    /// <summary>Spool <c>{log-directory}/decnet.log</c>, offset <c>{state-dir}/forwarder.offset</c>, master at <c>master-host:swarm-syslog-port</c>.</summary>
    public static LogForwarderSettings ForwarderSettings(AgentHostSettings settings, Func<System.Net.Security.SslClientAuthenticationOptions> tls) => new()
    {
        SpoolPath = Path.Combine(settings.LogDirectory, SpoolFileName),
        CheckpointPath = Path.Combine(settings.StateDirectory, ForwarderCheckpoint.FileName),
        MasterHost = settings.MasterHost,
        MasterPort = settings.SyslogPort,
        Tls = tls,
    };
}

public static class LogForwarderServices
{
    /// <summary>One line in the agent's startup: <c>services.AddLogForwarder(settings)</c>.</summary>
    public static IServiceCollection AddLogForwarder(this IServiceCollection services, AgentHostSettings settings)
    {
        services.AddSingleton(settings);
        services.AddHostedService<LogForwarderService>();
        return services;
    }
}
