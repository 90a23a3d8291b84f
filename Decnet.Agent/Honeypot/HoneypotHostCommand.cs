using System.Runtime.InteropServices;
using Decnet.Core.Honeypots.Admission;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Honeypot;

/// <summary>
/// <c>decnet-agent honeypot</c>: the process inside a service container. Hosts the decky's services on
/// the container's (shared) network namespace and writes every event to stdout as RFC 5424, which the
/// Docker json-file log driver keeps for the collector. Diagnostics go to stderr so stdout stays pure.
/// </summary>
public static class HoneypotHostCommand
{
    public const int ExitOk = 0;
    public const int ExitNothingBound = 1;
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        Func<string, string?> environment,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken stopping = default)
    {
        if (args.Count > 0)
        {
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return args[0] is "-h" or "--help" ? ExitOk : ExitUsage;
        }

        var (settings, errors) = HoneypotHostSettings.Read(environment);
        if (settings is null)
        {
            foreach (var error in errors)
            {
                await stderr.WriteLineAsync("decnet-agent honeypot: " + error).ConfigureAwait(false);
            }
            return ExitUsage;
        }

        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        var unknown = settings.Services.Where(s => !registry.TryGet(s, out _)).ToList();
        if (unknown.Count > 0)
        {
            await stderr.WriteLineAsync(
                $"decnet-agent honeypot: unknown service(s) {string.Join(", ", unknown)}; available: {string.Join(", ", registry.Names)}.").ConfigureAwait(false);
            return ExitUsage;
        }

        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddFilter("Microsoft", LogLevel.Warning));
        await using var sink = new StdoutEventSink(stdout);
        // This container is one service of the decky: without the host's shared admission, the bounds it
        // gets are its share of the decky's.
        var localAdmission = new SessionAdmission(new SessionAdmissionOptions
        {
            MaxSessionsPerSourcePerDecky = settings.SessionsPerSource,
            MaxSessionsPerSourcePerHost = settings.SessionsPerSource,
            MaxSessionsPerDecky = settings.Sessions,
            MaxSessionsPerHost = settings.Sessions,
        });
        await using var shared = settings.AdmissionSocket is { } socket
            ? new SharedSessionAdmission(socket, localAdmission, loggerFactory.CreateLogger<SharedSessionAdmission>())
            : null;
        await using var host = new ServiceHost(loggerFactory, new ServiceHostOptions
        {
            Admission = localAdmission.Options,
            Admitter = (ISessionAdmitter?)shared ?? localAdmission,
        });
        var artifactsDirectory = Directory.CreateDirectory(settings.ArtifactsDirectory).FullName;
        var artifacts = new ArtifactQuota(artifactsDirectory, new ArtifactQuotaOptions
        {
            MaxBytesPerDecky = settings.ArtifactBytes,
            MaxBytesTotal = settings.ArtifactBytes,
            MaxFilesPerSession = settings.FilesPerSession,
        });

        var bindings = settings.Services.Select(service => registry.CreateBinding(service, new ServiceContext
        {
            DeckyName = settings.Decky,
            Hostname = settings.Hostname,
            Distro = settings.Distro,
            OsFamily = settings.OsFamily,
            Archetype = settings.Archetype,
            Persona = settings.PersonaFor(service),
            StateDirectory = Directory.CreateDirectory(Path.Combine(settings.StateDirectory, settings.Decky, service)).FullName,
            ArtifactsDirectory = artifactsDirectory,
            Artifacts = artifacts,
            Events = sink,
            LoggerFactory = loggerFactory,
        }, settings.BindAddress)).ToList();

        var decky = await host.StartDeckyAsync(settings.Decky, bindings, stopping).ConfigureAwait(false);
        foreach (var binding in decky.Bindings)
        {
            await stderr.WriteLineAsync($"decnet-agent honeypot: {settings.Decky}/{binding.ServiceName} {binding}").ConfigureAwait(false);
        }

        // A container whose every port failed must exit, so the runtime reports the service as exited
        // instead of "running" while nothing listens.
        if (!decky.Bindings.Any(b => b.Succeeded))
        {
            return ExitNothingBound;
        }

        await WaitForStopAsync(stopping).ConfigureAwait(false);
        return ExitOk;
    }

    public const string Usage =
        """
        usage: decnet-agent honeypot
          Hosts honeypot services inside a decky's service container; events go to stdout (RFC 5424).
          Environment:
            DECNET_DECKY          decky name (required)
            DECNET_SERVICES       comma-separated service names (required)
            DECNET_HOSTNAME       hostname the decky presents (default: the decky name)
            DECNET_DISTRO         distro slug (default: debian)
            DECNET_BIND_ADDRESS   address to listen on (default: 0.0.0.0)
            DECNET_PERSONA_JSON   {"service": {"key": "value"}} persona settings
            DECNET_STATE_DIR      per-service state (default: /var/lib/decnet/state)
            DECNET_ARTIFACTS_DIR  captured artifacts (default: /var/lib/decnet/artifacts)
            DECNET_ARTIFACTS_MAX_BYTES          artifact bytes this container may keep (default: 268435456)
            DECNET_ARTIFACTS_FILES_PER_SESSION  files one session may store (default: 64)
            DECNET_SESSIONS_PER_SOURCE          concurrent sessions per source address (default: 32)
            DECNET_SESSIONS_MAX                 concurrent sessions in all (default: 1024)
            DECNET_ADMISSION_SOCKET             the host's shared session admission (Unix socket); the two
                                                limits above apply only while it is unreachable
        """;

    // docker stop sends SIGTERM (through the init process); Ctrl+C is SIGINT. Either ends the host cleanly
    // so queued events are flushed before the process exits.
    private static async Task WaitForStopAsync(CancellationToken stopping)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped.TrySetResult();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var registration = stopping.Register(() => stopped.TrySetResult());
        await stopped.Task.ConfigureAwait(false);
    }
}
