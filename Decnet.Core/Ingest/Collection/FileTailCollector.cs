using System.Security.Cryptography;
using System.Threading.Channels;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;

namespace Decnet.Core.Ingest.Collection;

/// <summary>Counters of the file tails since start.</summary>
public sealed record FileTailCounters(long Lines, long Rotations, string? LastError);

/// <summary>
/// Tails files of RFC 5424 lines (<see cref="FileIngestOptions"/>) into the <see cref="EventIngester"/>
/// through one bounded channel. Each line carries the byte offset just past it, which the ingester commits
/// with the row in <c>pipeline_cursors</c> ("file:NAME"), so a restarted or killed master resumes exactly
/// there. The file's identity (a hash of its first line) is stored beside the offset: a file replaced by
/// rotation is recognised, the rest of the rotated "path.1" is read first, and the new file starts at 0.
/// Each row's idempotency key is built from file name, identity and offset, so a line read twice is stored once.
/// </summary>
public sealed partial class FileTailCollector(
    IOptions<FileIngestOptions> options,
    IOptions<StorageOptions> storage,
    EventIngester ingester,
    IDbContextFactory<DecnetDbContext> dbFactory,
    ILogger<FileTailCollector> logger)
{
    public const string CursorPrefix = "file:";

    /// <summary>Bytes of the first line that identify a file.</summary>
    private const int IdentityBytes = 4096;

    private long _lines;
    private long _rotations;
    private volatile string? _lastError;

    public FileTailCounters Counters => new(Interlocked.Read(ref _lines), Interlocked.Read(ref _rotations), _lastError);

    /// <summary>Tails every configured file until cancelled, then lets the lines already read be stored.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var files = options.Value.Files;
        if (files.Count == 0)
        {
            return;
        }
        var channel = Channel.CreateBounded<IngestLine>(new BoundedChannelOptions(options.Value.ChannelCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var drain = new CancellationTokenSource();
        var ingest = ingester.RunAsync(channel.Reader, drain.Token);
        try
        {
            await Task.WhenAll(files.Select(f => TailAsync(f, channel.Writer, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            channel.Writer.TryComplete();
            drain.CancelAfter(TimeSpan.FromSeconds(10));
            await ingest.ConfigureAwait(false);
        }
    }

    private async Task TailAsync(IngestFileSource source, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken)
    {
        var path = Path.IsPathRooted(source.Path) ? source.Path : Path.Combine(storage.Value.DataPath, source.Path);
        var cursor = CursorPrefix + source.Name;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await TailFileAsync(path, cursor, writer, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbUpdateException or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
            {
                // Starts over from the committed position; rows already stored are not stored twice.
                _lastError = $"{path}: {ex.Message}";
                LogTailFailed(logger, path, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task TailFileAsync(string path, string cursor, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken)
    {
        var (storedOffset, storedIdentity) = await LoadPositionAsync(cursor, cancellationToken).ConfigureAwait(false);
        var poll = options.Value.PollInterval;
        var buffer = new byte[64 * 1024];
        var splitter = new LineSplitter();
        var lines = new List<(string Line, long EndOffset)>();

        // Open the file once it exists and has a first line to identify it by.
        FileStream? current = null;
        string? identity = null;
        while (current is null)
        {
            (current, identity) = TryOpen(path);
            if (current is null)
            {
                await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
            }
        }
        try
        {
            long start = 0;
            if (storedIdentity is not null && storedIdentity == identity && storedOffset <= current.Length)
            {
                start = storedOffset;
            }
            else if (storedIdentity is not null && storedIdentity != identity)
            {
                // Rotated while the master was away: finish the old file first, if it is still there.
                var (rotated, rotatedIdentity) = TryOpen(path + ".1");
                if (rotated is not null)
                {
                    using (rotated)
                    {
                        if (rotatedIdentity == storedIdentity && storedOffset <= rotated.Length)
                        {
                            rotated.Seek(storedOffset, SeekOrigin.Begin);
                            splitter.Reset(storedOffset);
                            await ReadAvailableAsync(rotated, rotatedIdentity, cursor, splitter, buffer, lines, writer, cancellationToken).ConfigureAwait(false);
                            Interlocked.Increment(ref _rotations);
                        }
                    }
                }
            }
            current.Seek(start, SeekOrigin.Begin);
            splitter.Reset(start);
            LogTailing(logger, path, start);

            while (true)
            {
                if (await ReadAvailableAsync(current, identity!, cursor, splitter, buffer, lines, writer, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                // At the end: has the path been replaced (rotation) or cut (truncation)?
                var (replacement, replacementIdentity) = TryOpen(path);
                if (replacement is not null && (replacementIdentity != identity || replacement.Length < splitter.Consumed))
                {
                    // What the writer added to the old file before switching is read first.
                    await ReadAvailableAsync(current, identity!, cursor, splitter, buffer, lines, writer, cancellationToken).ConfigureAwait(false);
                    await current.DisposeAsync().ConfigureAwait(false);
                    current = replacement;
                    identity = replacementIdentity;
                    splitter.Reset(0);
                    Interlocked.Increment(ref _rotations);
                    LogRotated(logger, path);
                    continue;
                }
                if (replacement is not null)
                {
                    await replacement.DisposeAsync().ConfigureAwait(false);
                }
                await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await current.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads what is in the file now; complete lines go to the channel. Returns whether anything was read.</summary>
    private async Task<bool> ReadAvailableAsync(
        FileStream file, string identity, string cursor, LineSplitter splitter, byte[] buffer,
        List<(string Line, long EndOffset)> lines, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken)
    {
        var any = false;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            any = true;
            splitter.Append(buffer.AsSpan(0, read), lines);
            foreach (var (line, end) in lines)
            {
                if (line.Length == 0)
                {
                    continue;
                }
                // The writer blocks while the channel is full: a slow database pauses reading, memory stays bounded.
                await writer.WriteAsync(new IngestLine(line, $"{cursor}:{identity}:{end}", new SourcePosition(cursor, end, identity)), cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _lines);
            }
            lines.Clear();
        }
        return any;
    }

    /// <summary>The file and its identity, or nulls while it is missing or has no complete first line yet.</summary>
    private static (FileStream? File, string? Identity) TryOpen(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, null);
        }
        var head = new byte[IdentityBytes];
        var count = 0;
        int read;
        while (count < head.Length && (read = file.Read(head, count, head.Length - count)) > 0)
        {
            count += read;
        }
        var newline = Array.IndexOf(head, (byte)'\n', 0, count);
        if (newline < 0 && count < head.Length)
        {
            file.Dispose();
            return (null, null);
        }
        var length = newline < 0 ? count : newline;
        var identity = Convert.ToHexStringLower(SHA256.HashData(head.AsSpan(0, length)))[..16];
        file.Seek(0, SeekOrigin.Begin);
        return (file, identity);
    }

    private async Task<(long Offset, string? Identity)> LoadPositionAsync(string cursor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var stored = await db.PipelineCursors.AsNoTracking().FirstOrDefaultAsync(c => c.Name == cursor, cancellationToken).ConfigureAwait(false);
        return stored is null ? (0, null) : (stored.Position, stored.Detail);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tailing {Path} from byte {Offset}")]
    private static partial void LogTailing(ILogger logger, string path, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} was rotated or truncated; reading the new file from its start")]
    private static partial void LogRotated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tailing {Path} failed: {Reason}; resuming from the stored position")]
    private static partial void LogTailFailed(ILogger logger, string path, string reason);
}
