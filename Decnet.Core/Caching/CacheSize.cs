namespace Decnet.Core.Caching;

/// <summary>
/// Estimates of what cached values hold in memory, for the byte budgets of <see cref="QueryCache{TKey, TValue}"/>.
/// Strings dominate (raw lines, JSON columns an attacker filled): two bytes a character plus the object
/// header; every row adds a fixed overhead for its object and references.
/// </summary>
public static class CacheSize
{
    public const long RowOverhead = 128;

    public static long Of(string? text) => text is null ? 0 : 24 + (2L * text.Length);

    public static long Of(string? a, string? b, string? c = null, string? d = null, string? e = null, string? f = null, string? g = null, string? h = null) =>
        Of(a) + Of(b) + Of(c) + Of(d) + Of(e) + Of(f) + Of(g) + Of(h);
}
