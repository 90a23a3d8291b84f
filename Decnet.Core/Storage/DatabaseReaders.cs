using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Storage;

/// <summary>
/// Runs the read queries of lists and searches. Microsoft.Data.Sqlite has no real asynchronous I/O: an
/// "async" query holds its thread until SQLite is done, so hundreds of concurrent API reads would hold as
/// many thread-pool threads and starve the rest of the server. On SQLite, reads therefore queue to a
/// bounded set of reader threads (<see cref="StorageOptions.ReaderConnections"/>), each with its own open
/// connection; callers await without holding a thread. Npgsql is truly asynchronous, so on PostgreSQL the
/// read runs on the caller's context directly.
/// </summary>
public sealed class DatabaseReaders : IDisposable
{
    /// <summary>Reads waiting for a reader thread; beyond this, callers wait (asynchronously) to enqueue.</summary>
    public const int QueueCapacity = 4096;

    private readonly IDbContextFactory<DecnetDbContext> _factory;
    private readonly bool _threaded;
    private readonly int _threadCount;
    private readonly Channel<ReadItem> _queue = Channel.CreateBounded<ReadItem>(new BoundedChannelOptions(QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = false,
    });
    private readonly Lock _startGate = new();
    private Thread[]? _threads;
    private long _reads;

    public DatabaseReaders(IDbContextFactory<DecnetDbContext> factory, IOptions<StorageOptions> options)
    {
        _factory = factory;
        _threaded = options.Value.Kind == StorageProvider.Sqlite;
        _threadCount = options.Value.ReaderConnections;
    }

    /// <summary>Reads run so far (diagnostics and tests).</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Runs <paramref name="read"/> with a context of its own; the context must not escape it.</summary>
    public async Task<T> ReadAsync<T>(Func<DecnetDbContext, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (!_threaded)
        {
            await using var db = await _factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            return await read(db, cancellationToken).ConfigureAwait(false);
        }
        EnsureStarted();
        var item = new ReadItem<T>(read, cancellationToken);
        await _queue.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        return await item.Completion.Task.ConfigureAwait(false);
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _threads) is not null)
        {
            return;
        }
        lock (_startGate)
        {
            if (_threads is not null)
            {
                return;
            }
            var threads = new Thread[_threadCount];
            for (var i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(Serve) { IsBackground = true, Name = $"decnet-db-reader-{i}" };
                threads[i].Start();
            }
            Volatile.Write(ref _threads, threads);
        }
    }

    /// <summary>One reader thread: one context with its connection kept open, one read at a time.</summary>
    private void Serve()
    {
        DecnetDbContext? db = null;
        try
        {
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (_queue.Reader.TryRead(out var item))
                {
                    if (db is null)
                    {
                        db = _factory.CreateDbContext();
                        db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
                        db.Database.OpenConnection();
                    }
                    if (!item.Run(db))
                    {
                        // A failed read may leave the connection in any state: the next one starts afresh.
                        db.Dispose();
                        db = null;
                    }
                    else
                    {
                        db.ChangeTracker.Clear();
                    }
                }
            }
        }
        finally
        {
            db?.Dispose();
        }
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private abstract class ReadItem
    {
        /// <summary>Runs the read on the calling (reader) thread; false when it failed.</summary>
        public abstract bool Run(DecnetDbContext db);
    }

    private sealed class ReadItem<T>(Func<DecnetDbContext, CancellationToken, Task<T>> read, CancellationToken cancellationToken) : ReadItem
    {
        // Continuations run on the pool, never on the reader thread that completes them.
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool Run(DecnetDbContext db)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
                return true;
            }
            try
            {
                // SQLite completes these "async" calls synchronously: waiting here blocks only this reader thread.
                Completion.TrySetResult(read(db, cancellationToken).GetAwaiter().GetResult());
                return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
                return true;
            }
            catch (Exception ex)
            {
                Completion.TrySetException(ex);
                return false;
            }
        }
    }
}
