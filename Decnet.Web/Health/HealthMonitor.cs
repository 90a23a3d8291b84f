using System.Collections.Concurrent;
using Decnet.Core.Health;

namespace Decnet.Web.Health;

/// <summary>
/// Runs every registered <see cref="IHealthProbe"/> on its own cadence with a timeout and keeps the
/// latest result. Requests read the snapshot only: a slow database or engine never blocks them.
/// </summary>
public sealed class HealthMonitor(IEnumerable<IHealthProbe> probes, TimeProvider time, ILogger<HealthMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, ComponentHealth> _latest = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<IHealthProbe> _probes = [.. probes];

    public HealthReport Snapshot()
    {
        var components = new SortedDictionary<string, ComponentHealth>(StringComparer.Ordinal);
        foreach (var probe in _probes)
        {
            components[probe.Name] = _latest.TryGetValue(probe.Name, out var health)
                ? health
                : new ComponentHealth("failing", probe.Critical, "not probed yet", null);
        }
        var criticalFailing = components.Values.Any(c => c.Critical && c.Status != "ok");
        var anyFailing = components.Values.Any(c => c.Status != "ok");
        var status = criticalFailing ? "unhealthy" : anyFailing ? "degraded" : "healthy";
        return new HealthReport(status, components);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_probes.Select(p => RunAsync(p, stoppingToken)));

    private async Task RunAsync(IHealthProbe probe, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(probe.Interval, time);
        do
        {
            ProbeResult result;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(s_probeTimeout);
                result = await probe.ProbeAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                result = ProbeResult.Failing($"no answer within {s_probeTimeout.TotalSeconds:0} s");
            }
            catch (Exception ex)
            {
                result = ProbeResult.Failing(ex.GetType().Name + ": " + ex.Message);
            }
            var previous = _latest.TryGetValue(probe.Name, out var p) ? p.Status : null;
            var status = result.Status == ProbeStatus.Ok ? "ok" : "failing";
            if (previous is not null && previous != status)
            {
                logger.LogWarning("Health of {Component} changed from {Previous} to {Status}: {Detail}", probe.Name, previous, status, result.Detail);
            }
            _latest[probe.Name] = new ComponentHealth(status, probe.Critical, result.Detail, time.GetUtcNow().UtcDateTime);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}

public sealed record ComponentHealth(string Status, bool Critical, string? Detail, DateTime? CheckedAt);

public sealed record HealthReport(string Status, IReadOnlyDictionary<string, ComponentHealth> Components);
