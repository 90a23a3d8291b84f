using Decnet.Core.Events;
using Decnet.Core.Events.Collection;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Events.Collection;

/// <summary>A spool file tailed into a real migrated database by the configured file source.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class FileTailCollectorTests : IAsyncLifetime
{
    private readonly TempDirectory _spool = new("decnet-spool");
    private CoreTestBed _bed = null!;
    private CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;
    private FileTailCollector _collector = null!;

    private string SpoolPath => Path.Combine(_spool.Path, "agent.log");

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(new Dictionary<string, string?>
    {
        ["Decnet:Ingest:Files:0:Name"] = "agent1",
        ["Decnet:Ingest:Files:0:Path"] = SpoolPath,
        ["Decnet:Ingest:PollInterval"] = "00:00:00.050",
    });

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _bed.DisposeAsync();
        _spool.Dispose();
    }

    /// <summary>A new collector each time, as after a restart of the master: only the database remembers.</summary>
    private void Start()
    {
        _stop = new CancellationTokenSource();
        _collector = ActivatorUtilities.CreateInstance<FileTailCollector>(_bed.Services);
        _running = _collector.RunAsync(_stop.Token);
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }

    [Fact]
    public async Task Lines_written_in_pieces_become_rows_once_and_the_offset_is_committed_with_them()
    {
        Start();
        var bytes = SpoolLines.Bytes(0, 5);
        var cut = bytes.Length - 40;
        // The writer is caught in the middle of a line: the partial line waits for its end.
        SpoolLines.Append(SpoolPath, bytes.AsSpan(0, cut));
        await WaitForRowsAsync(4);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(4, (await RowsAsync()).Count);

        SpoolLines.Append(SpoolPath, bytes.AsSpan(cut));
        await WaitForRowsAsync(5);

        var rows = await RowsAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => SpoolLines.Line(i)), rows.Select(r => r.RawLine));
        Assert.Equal("198.51.0.1", rows[0].AttackerIp);
        var cursor = await CursorAsync();
        Assert.Equal(new FileInfo(SpoolPath).Length, cursor.Position);
        Assert.Matches("^[0-9a-f]{16}$", cursor.Detail!);
    }

    [Fact]
    public async Task A_restarted_tail_resumes_at_the_stored_offset_and_follows_rotations()
    {
        Start();
        SpoolLines.Append(SpoolPath, SpoolLines.Bytes(0, 10));
        await WaitForRowsAsync(10);
        await StopAsync();

        // While the master is down the writer adds five lines, rotates, and starts a new file with four.
        SpoolLines.Append(SpoolPath, SpoolLines.Bytes(10, 5));
        File.Move(SpoolPath, SpoolPath + ".1");
        SpoolLines.Append(SpoolPath, SpoolLines.Bytes(15, 4));
        Start();
        await WaitForRowsAsync(19);
        // Only what was new was read: the stored offset held, the rest of the rotated file came first.
        Assert.Equal(9, _collector.Counters.Lines);

        // Rotation while running: the tail finishes the old file and starts the new one at its beginning.
        SpoolLines.Append(SpoolPath, SpoolLines.Bytes(19, 2));
        await WaitForRowsAsync(21);
        File.Delete(SpoolPath + ".1");
        File.Move(SpoolPath, SpoolPath + ".1");
        SpoolLines.Append(SpoolPath, SpoolLines.Bytes(21, 3));
        await WaitForRowsAsync(24);
        await Task.Delay(300, TestContext.Current.CancellationToken);

        var rows = await RowsAsync();
        Assert.Equal(Enumerable.Range(0, 24).Select(i => SpoolLines.Line(i)), rows.Select(r => r.RawLine));
        Assert.Equal(new FileInfo(SpoolPath).Length, (await CursorAsync()).Position);
    }

    private async Task<List<LogEntry>> RowsAsync()
    {
        await using var db = await _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.Logs.AsNoTracking().OrderBy(l => l.Id).ToListAsync();
    }

    private async Task<PipelineCursor> CursorAsync()
    {
        await using var db = await _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.PipelineCursors.AsNoTracking().SingleAsync(c => c.Name == FileTailCollector.CursorPrefix + "agent1");
    }

    private async Task WaitForRowsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int rows;
        while ((rows = (await RowsAsync()).Count) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{rows} of {count} rows after 20 s");
            await Task.Delay(50);
        }
    }
}
