using System.Diagnostics;
using System.Text;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Benchmarks;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>
/// Lines per second a worker's spool reaches the master's logs table through the whole shipping path
/// (spool read, mutual TLS, framing, labelling, bounded queue, ingest, acknowledgement, saved offset),
/// next to the same ingest fed in process with the same batches (the ceiling shipping can reach).
/// </summary>
[Collection(BenchmarkCollection.Name)]
[Trait("Category", "Benchmark")]
public sealed class LogShippingBenchmark(ITestOutputHelper output)
{
    private const int Lines = 20_000;

    [Fact]
    public async Task Shipped_lines_per_second_next_to_in_process_ingest()
    {
        var report = new BenchmarkReport(output, "log shipping");
        report.Machine();
        await using var lab = await ShippingLab.StartAsync();
        using var worker = new TempDirectory("decnet-bench-worker");
        using var identity = (await lab.AddWorkerAsync("worker-a")).Certificate();

        // Reference: the same number of lines straight into the ingest, in the same 500-line batches.
        var ingester = lab.Bed.Services.GetRequiredService<EventIngester>();
        var reference = Stopwatch.StartNew();
        for (var start = 0; start < Lines; start += ShippingProtocol.MaxBatchLines)
        {
            var batch = Enumerable.Range(start, ShippingProtocol.MaxBatchLines).Select(i => new IngestLine(ShippingLab.Line(i).TrimEnd('\n'), $"ref:{i}")).ToList();
            await ingester.WriteBatchAsync(batch, CancellationToken.None);
        }
        reference.Stop();

        var spool = Path.Combine(worker.Path, "decnet.log");
        var text = new StringBuilder();
        for (var i = 0; i < Lines; i++)
        {
            text.Append(ShippingLab.Line(i));
        }
        await File.WriteAllTextAsync(spool, text.ToString());
        using var stop = new CancellationTokenSource();
        var forwarder = new LogForwarder(new LogForwarderSettings
        {
            SpoolPath = spool,
            CheckpointPath = Path.Combine(worker.Path, ForwarderCheckpoint.FileName),
            MasterHost = "127.0.0.1",
            MasterPort = lab.Endpoint.Port,
            Tls = () => PinnedTls.CreateClientOptions(identity, lab.Trust, lab.Master.Fingerprint, targetHost: null),
        }, NullLogger<LogForwarder>.Instance);
        var shipped = Stopwatch.StartNew();
        var running = forwarder.RunAsync(stop.Token);
        await ShippingLab.EventuallyAsync(() => forwarder.LinesShipped >= Lines || running.IsCompleted, "every line acknowledged", TimeSpan.FromMinutes(5));
        shipped.Stop();
        await stop.CancelAsync();
        await running;

        Assert.Equal(2 * Lines, await lab.CountAsync());
        report.Figure($"{Lines} lines spool → logs table over mutual TLS", Lines / shipped.Elapsed.TotalSeconds, "lines/s", "same lines into EventIngester in process", Lines / reference.Elapsed.TotalSeconds);
    }
}
