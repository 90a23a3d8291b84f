using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Search;

/// <summary>Read side of <c>logs</c> for lists of events.</summary>
public sealed class EventLog(IDbContextFactory<DecnetDbContext> dbFactory)
{
    public const int MaxLatest = 200;

    /// <summary>The newest rows by insertion order (Id), which is also arrival order at the ingest.</summary>
    public async Task<IReadOnlyList<EventSummary>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        count = Math.Clamp(count, 1, MaxLatest);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Logs.AsNoTracking()
            .OrderByDescending(l => l.Id)
            .Take(count)
            .Select(l => new { l.Id, l.Timestamp, l.Decky, l.Service, l.EventType, l.AttackerIp, l.Fields })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new EventSummary(
            DateTime.SpecifyKind(r.Timestamp, DateTimeKind.Utc), r.Decky, r.Service, r.EventType, r.AttackerIp, r.Id, LogRow.ParseFields(r.Fields)))];
    }
}
