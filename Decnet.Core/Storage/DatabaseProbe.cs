using Decnet.Core.Health;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Storage;

/// <summary>The database answers a trivial query.</summary>
public sealed class DatabaseProbe(IDbContextFactory<DecnetDbContext> dbFactory) : IHealthProbe
{
    public string Name => "database";
    public bool Critical => true;
    public TimeSpan Interval => TimeSpan.FromSeconds(2);

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // A statement that touches no feature's table: storage answers for itself, whatever the schema holds.
        await db.Database.ExecuteSqlRawAsync("SELECT 1", cancellationToken);
        return ProbeResult.Ok("answers");
    }
}
