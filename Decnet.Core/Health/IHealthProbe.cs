namespace Decnet.Core.Health;

/// <summary>
/// One component of /api/v1/health. Probes run in the background on their own cadence; requests only
/// read the latest result, so a hanging dependency never holds a request thread.
/// </summary>
public interface IHealthProbe
{
    string Name { get; }

    /// <summary>A failing critical component makes the whole service unhealthy (503); others only degrade it.</summary>
    bool Critical { get; }

    TimeSpan Interval => TimeSpan.FromSeconds(5);

    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}

public enum ProbeStatus
{
    Ok,
    Failing,
}

public sealed record ProbeResult(ProbeStatus Status, string? Detail = null)
{
    public static ProbeResult Ok(string? detail = null) => new(ProbeStatus.Ok, detail);

    public static ProbeResult Failing(string detail) => new(ProbeStatus.Failing, detail);
}
