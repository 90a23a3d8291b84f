using System.Globalization;
using Decnet.Core.Health;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest;

/// <summary>Critical: without the ingest, attacks still happen but nobody sees them.</summary>
public sealed class IngestionProbe(EventIngester ingester) : IHealthProbe
{
    public string Name => "ingestion";
    public bool Critical => true;

    public Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var counters = ingester.Counters;
        if (!counters.Running)
        {
            return Task.FromResult(ProbeResult.Failing("the ingest worker is not running"));
        }
        if (counters.LastError is { } error)
        {
            return Task.FromResult(ProbeResult.Failing($"last batch failed: {error}"));
        }
        return Task.FromResult(ProbeResult.Ok(string.Create(CultureInfo.InvariantCulture,
            $"{counters.Ingested} ingested, {counters.Duplicates} duplicate(s), {counters.Malformed} malformed")));
    }
}
