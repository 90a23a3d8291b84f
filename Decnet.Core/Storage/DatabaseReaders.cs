using System.Collections.Concurrent;
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
    /// <summary>Reads queued or running at once; beyond this, callers wait (asynchronously) for a slot.</summary>
    public const int QueueCapacity = 4096;

    private readonly IDbContextFactory<DecnetDbContext> _factory;
    private readonly bool _threaded;
    private readonly int _threadCount;
    // Reader threads wait on a plain semaphore, never on a channel: a channel wakes its waiters through the
    // thread pool, so a starved pool would keep the readers asleep, the very starvation they exist to avoid.
    private readonly ConcurrentQueue<ReadItem> _queue = new();
    private readonly SemaphoreSlim _queued = new(0);
    private readonly SemaphoreSlim _slots = new(QueueCapacity);
    private readonly Lock _startGate = new();
    private volatile bool _disposed;
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureStarted();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var item = new ReadItem<T>(read, cancellationToken);
            _queue.Enqueue(item);
            _queued.Release();
            return await item.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
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
            while (true)
            {
                _queued.Wait();
                if (!_queue.TryDequeue(out var item))
                {
                    // Only Dispose releases without an item.
                    return;
                }
                try
                {
                    db ??= Open();
                }
                catch (Exception ex)
                {
                    // The database is away: this read fails, the next one tries again.
                    item.Fail(ex);
                    continue;
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
        finally
        {
            db?.Dispose();
        }
    }

    private DecnetDbContext Open()
    {
        var db = _factory.CreateDbContext();
        try
        {
            db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
            db.Database.OpenConnection();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        // Queued reads still run; then each reader finds the queue empty and ends.
        _queued.Release(_threadCount);
    }

    private abstract class ReadItem
    {
        /// <summary>Runs the read on the calling (reader) thread; false when it failed.</summary>
        public abstract bool Run(DecnetDbContext db);

        public abstract void Fail(Exception exception);
    }

    private sealed class ReadItem<T>(Func<DecnetDbContext, CancellationToken, Task<T>> read, CancellationToken cancellationToken) : ReadItem
    {
        // Continuations run on the pool, never on the reader thread that completes them.
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);

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
