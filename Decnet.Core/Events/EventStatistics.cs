using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Events;

/// <summary>The dashboard's headline numbers.</summary>
public sealed class EventStatistics(IDbContextFactory<DecnetDbContext> dbFactory)
{
    public async Task<StatsSummary> GetSummaryAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var interactions = await db.Logs.LongCountAsync(cancellationToken);
        var attackers = await db.Attackers.CountAsync(cancellationToken);
        var deckies = await db.Deckies.CountAsync(cancellationToken);
        return new StatsSummary(interactions, attackers, deckies);
    }
}

public sealed record StatsSummary(long TotalInteractions, int UniqueAttackers, int ActiveDeckies);
