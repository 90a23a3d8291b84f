using Decnet.Core.Settings;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Events.Retention;

/// <summary>
/// Keeps the <c>logs</c> table within the retention set in Config: rows older than the retention days go,
/// then, while the table holds more than the row limit, the oldest stored rows (lowest ids) go. Deletes
/// run in batches, each its own short transaction, so the ingest writing next to it is never held up for
/// long. One pass at a time; bounty, attacker profiles and the audit log are not touched.
/// </summary>
public sealed class LogPurger(IDbContextFactory<DecnetDbContext> dbFactory, SystemSettingsService settings, TimeProvider time, ILogger<LogPurger> logger)
{
    public const int DefaultBatchSize = 5_000;

    private readonly SemaphoreSlim _single = new(1, 1);
    private volatile LogPurgeResult? _last;

    /// <summary>The last completed pass, shown in Config; null before the first.</summary>
    public LogPurgeResult? LastResult => _last;

    public async Task<LogPurgeResult> PurgeAsync(int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await _single.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var policy = LogRetentionPolicy.From(await settings.GetAsync(cancellationToken).ConfigureAwait(false));
            var now = time.GetUtcNow();
            var cutoff = now.UtcDateTime.AddDays(-policy.Days);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);

            long byAge = 0;
            while (true)
            {
                var deleted = await db.Logs.Where(l => l.Timestamp < cutoff).OrderBy(l => l.Timestamp).Take(batchSize)
                    .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                byAge += deleted;
                if (deleted < batchSize)
                {
                    break;
                }
            }

            long byCount = 0;
            var remaining = await db.Logs.LongCountAsync(cancellationToken).ConfigureAwait(false);
            if (remaining > policy.MaxRows)
            {
                // Everything at or below the id of the first row past the newest MaxRows goes.
                var newestDropped = await db.Logs.OrderByDescending(l => l.Id).Skip((int)Math.Min(policy.MaxRows, int.MaxValue)).Select(l => l.Id)
                    .FirstAsync(cancellationToken).ConfigureAwait(false);
                while (true)
                {
                    var deleted = await db.Logs.Where(l => l.Id <= newestDropped).OrderBy(l => l.Id).Take(batchSize)
                        .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                    byCount += deleted;
                    if (deleted < batchSize)
                    {
                        break;
                    }
                }
                remaining = await db.Logs.LongCountAsync(cancellationToken).ConfigureAwait(false);
            }

            var result = new LogPurgeResult(now, policy, byAge, byCount, remaining);
            _last = result;
            if (result.Removed > 0)
            {
                logger.LogInformation("Log retention removed {ByAge} rows older than {Days} days and {ByCount} beyond {MaxRows} rows; {Remaining} kept",
                    byAge, policy.Days, byCount, policy.MaxRows, remaining);
            }
            return result;
        }
        finally
        {
            _single.Release();
        }
    }
}
