using System.Text.Json;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Spool;

/// <summary>
/// A worker's sink for its Docker deckies' container logs: each line goes into the event spool (which the
/// forwarder ships to the master), and each container's position into <c>{state-dir}/docker-cursors.json</c>
/// once its lines are flushed. The engine repeats the line at the resume position; lines at or before a
/// container's stored position are skipped, so a restarted agent ships nothing twice.
/// </summary>
public sealed class SpoolLineSink(SpoolEventSink spool, string cursorsPath, ILogger<SpoolLineSink> logger) : IContainerLineSink
{
    /// <summary>Lines appended per flush (and per position write).</summary>
    public const int BatchSize = 256;

    private readonly Lock _lock = new();
    private Dictionary<string, long>? _positions;

    public async Task ConsumeAsync(ChannelReader<IngestLine> lines, CancellationToken drain)
    {
        var batch = new List<string>(BatchSize);
        var advanced = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            while (await lines.WaitToReadAsync(drain).ConfigureAwait(false))
            {
                var positions = Positions();
                while (batch.Count < BatchSize && lines.TryRead(out var line))
                {
                    if (line.Position is not { } position)
                    {
                        continue;
                    }
                    lock (_lock)
                    {
                        if (positions.TryGetValue(position.Cursor, out var stored) && position.Offset <= stored
                            || advanced.TryGetValue(position.Cursor, out var queued) && position.Offset <= queued)
                        {
                            continue;
                        }
                    }
                    batch.Add(line.RawLine);
                    advanced[position.Cursor] = position.Offset;
                }
                if (batch.Count > 0)
                {
                    await spool.AppendLinesAsync(batch, drain).ConfigureAwait(false);
                }
                if (advanced.Count > 0)
                {
                    Commit(advanced);
                }
                batch.Clear();
                advanced.Clear();
            }
        }
        catch (OperationCanceledException) when (drain.IsCancellationRequested)
        {
            logger.LogWarning("Stopped before every container line reached the spool; they are read again from the engine at the next start");
        }
    }

    public Task<long?> PositionAsync(string cursor, CancellationToken cancellationToken)
    {
        var positions = Positions();
        lock (_lock)
        {
            return Task.FromResult(positions.TryGetValue(cursor, out var position) ? position : (long?)null);
        }
    }

    public Task ForgetAllButAsync(IReadOnlySet<string> existing, CancellationToken cancellationToken)
    {
        var positions = Positions();
        lock (_lock)
        {
            var gone = positions.Keys.Where(k => !existing.Contains(k)).ToList();
            if (gone.Count > 0)
            {
                gone.ForEach(k => positions.Remove(k));
                Save(positions);
            }
        }
        return Task.CompletedTask;
    }

    private void Commit(Dictionary<string, long> advanced)
    {
        var positions = Positions();
        lock (_lock)
        {
            foreach (var (cursor, offset) in advanced)
            {
                positions[cursor] = Math.Max(offset, positions.GetValueOrDefault(cursor));
            }
            Save(positions);
        }
    }

    private Dictionary<string, long> Positions()
    {
        lock (_lock)
        {
            return _positions ??= Load();
        }
    }

    private Dictionary<string, long> Load()
    {
        try
        {
            return File.Exists(cursorsPath)
                ? JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllText(cursorsPath)) ?? new(StringComparer.Ordinal)
                : new(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            // Reading from the engine's start again ships some lines twice; losing them would be worse.
            logger.LogWarning("{Path} is unreadable ({Error}); container logs are read from their start", cursorsPath, ex.Message);
            return new(StringComparer.Ordinal);
        }
    }

    /// <summary>Written to a temporary file and renamed: a crash leaves the old positions or the new, never half.</summary>
    private void Save(Dictionary<string, long> positions)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(cursorsPath)!);
        var temporary = cursorsPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(positions));
        File.Move(temporary, cursorsPath, overwrite: true);
    }
}
