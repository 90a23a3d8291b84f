using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Audit;

/// <summary>Records operator actions in the audit table and the process log.</summary>
public sealed class AuditTrail(IDbContextFactory<DecnetDbContext> dbFactory, ILogger<AuditTrail> logger)
{
    public async Task RecordAsync(string actor, string action, string? target, string? detail, CancellationToken cancellationToken)
    {
        logger.LogInformation("Audit: {Actor} {Action} {Target} {Detail}", actor, action, target, detail);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.AuditEntries.Add(new AuditEntry { Actor = actor, Action = action, Target = target, Detail = detail, Timestamp = DateTime.UtcNow });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Id).Take(Math.Clamp(count, 1, 1000)).ToListAsync(cancellationToken);
    }
}
