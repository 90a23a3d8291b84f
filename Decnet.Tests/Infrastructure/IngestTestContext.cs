using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Infrastructure;

/// <summary>The real ingester on a real migrated database, fed through the channel the deckies publish to.</summary>
public abstract class IngestTestContext(StorageProvider provider = StorageProvider.Sqlite) : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    protected CoreTestBed Bed { get; private set; } = null!;

    protected EventIngester Ingester => Bed.Services.GetRequiredService<EventIngester>();

    protected ChannelEventSink Sink => Bed.Services.GetRequiredService<ChannelEventSink>();

    public virtual async ValueTask InitializeAsync() => Bed = await CoreTestBed.StartAsync(provider);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
        await Bed.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected void Start() => _running = Ingester.RunAsync(_stop.Token);

    /// <summary>Runs the ingester on another line source (container logs, syslog) instead of the sink.</summary>
    protected void Start(System.Threading.Channels.ChannelReader<IngestLine> lines) => _running = Ingester.RunAsync(lines, _stop.Token);

    protected async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
    }

    protected async Task WaitForAsync(Func<IngestCounters, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition(Ingester.Counters))
        {
            Assert.True(DateTime.UtcNow < deadline, $"ingest did not get there: {Ingester.Counters}");
            await Task.Delay(20);
        }
    }
}
