namespace Decnet.Core.Deckies.Fleet;

/// <summary>
/// How a decky's service set rotates on a mutation, shared by the master's fleet and the worker agent:
/// the archetype's services when the decky has one, else every per-decky service the runtime can host.
/// </summary>
public static class ServiceRotation
{
    /// <summary>The services a decky may rotate through.</summary>
    public static IReadOnlyList<string> Pool(DeckyConfig decky, Func<string, bool> runtimeCanHost)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentNullException.ThrowIfNull(runtimeCanHost);
        if (decky.Archetype is { } slug && Archetypes.Find(slug) is { } archetype)
        {
            return archetype.Services;
        }
        return ServiceCatalog.PerDeckyServiceNames.Where(runtimeCanHost).ToList();
    }

    /// <summary>1–3 services from the pool, different from the current set when the pool allows, plus the decky's custom services.</summary>
    public static IReadOnlyList<string> Pick(DeckyConfig decky, IReadOnlyList<string> pool, Random random)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(random);
        if (pool.Count == 0)
        {
            return decky.Services;
        }
        // The operator's own services are no rotation material: they stay, and only built-ins rotate around them.
        var pinned = decky.Services.Where(s => decky.CustomService(s) is not null).ToList();
        var current = decky.Services.Except(pinned, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        IReadOnlyList<string> pick = current;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var count = random.Next(1, Math.Min(3, pool.Count) + 1);
            pick = pool.OrderBy(_ => random.Next()).Take(count).Order(StringComparer.Ordinal).ToList();
            if (!pick.SequenceEqual(current, StringComparer.Ordinal))
            {
                break;
            }
        }
        return [.. pick, .. pinned];
    }
}
