using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>The forwarder in process against the real listener over mutual TLS.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class LogForwarderTests : IAsyncLifetime
{
    private readonly TempDirectory _worker = new("decnet-worker");
    private readonly CancellationTokenSource _stop = new();
    private ShippingLab _lab = null!;
    private System.Security.Cryptography.X509Certificates.X509Certificate2 _identity = null!;
    private Task _running = Task.CompletedTask;
    private int _written;

    private string Spool => Path.Combine(_worker.Path, "log", "decnet.log");

    private string CheckpointPath => Path.Combine(_worker.Path, "state", ForwarderCheckpoint.FileName);

    public async ValueTask InitializeAsync()
    {
        _lab = await ShippingLab.StartAsync();
        _identity = (await _lab.AddWorkerAsync("worker-a")).Certificate();
        Directory.CreateDirectory(Path.GetDirectoryName(Spool)!);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
        _identity.Dispose();
        await _lab.DisposeAsync();
        _worker.Dispose();
    }

    private LogForwarder Start()
    {
        var forwarder = new LogForwarder(new LogForwarderSettings
        {
            SpoolPath = Spool,
            CheckpointPath = CheckpointPath,
            MasterHost = "127.0.0.1",
            MasterPort = _lab.Endpoint.Port,
            Tls = () => PinnedTls.CreateClientOptions(_identity, _lab.Trust, _lab.Master.Fingerprint, targetHost: null),
            PollInterval = TimeSpan.FromMilliseconds(50),
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(400),
        }, NullLogger<LogForwarder>.Instance);
        _running = forwarder.RunAsync(_stop.Token);
        return forwarder;
    }

    private void Append(int count)
    {
        using var stream = new FileStream(Spool, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        using var writer = new StreamWriter(stream);
        for (var i = 0; i < count; i++)
        {
            writer.Write(ShippingLab.Line(_written++));
        }
    }

    private async Task ShippedAsync(int rows)
    {
        await _lab.WaitForRowsAsync(n => n == rows, TimeSpan.FromSeconds(30));
        // Acknowledged and saved: the offset catches up with the spool.
        await ShippingLab.EventuallyAsync(() => ForwarderCheckpoint.Load(CheckpointPath).Offset == new FileInfo(Spool).Length, "the offset reaches the end of the spool");
    }

    [Fact]
    public async Task Lines_are_shipped_labelled_and_the_offset_moves_only_after_the_master_stored_them()
    {
        await _lab.StopListenerAsync();
        Append(5);
        var forwarder = Start();

        // The master is down: the forwarder retries, and its offset does not move.
        await ShippingLab.EventuallyAsync(() => forwarder.Failures >= 2, "the forwarder retries");
        Assert.False(File.Exists(CheckpointPath));

        await _lab.StartListenerAsync();
        await ShippedAsync(5);
        Append(3);
        await ShippedAsync(8);

        var rows = await _lab.RowsAsync();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"attempt {i}"), rows.Select(r => r.Msg));
        Assert.All(rows, r => Assert.Equal("worker-a", ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
    }

    [Fact]
    public async Task A_truncated_or_rotated_spool_is_shipped_from_its_start_without_losing_the_new_lines()
    {
        Append(3);
        Start();
        await ShippedAsync(3);

        // Truncated to nothing, then two new lines: the file is now shorter than the saved offset.
        File.WriteAllText(Spool, "");
        Append(2);
        await ShippedAsync(5);

        // Rotated: a new file that quickly grows past the old offset.
        File.Move(Spool, Spool + ".1");
        Append(6);
        await ShippedAsync(11);

        Assert.Equal(Enumerable.Range(0, 11).Select(i => $"attempt {i}"), (await _lab.RowsAsync()).Select(r => r.Msg));
    }
}
