using System.Text.Json;
using System.Text.Json.Serialization;

namespace Decnet.Core.Attackers;

/// <summary>One command an attacker ran on a decky, as kept in <c>attackers.Commands</c>.</summary>
public sealed record AttackerCommand(DateTime Timestamp, string Decky, string Service, string Cmd);

/// <summary>
/// A client fingerprint seen for an attacker (SSH client version, HASSH, HTTP User-Agent), kept in
/// <c>attackers.Fingerprints</c>; distinct by (type, value) with where it was first seen.
/// </summary>
public sealed record AttackerFingerprint(string Type, string Value, string Decky, string Service, DateTime FirstSeen);

/// <summary>Inter-arrival statistics of one attacker's events, kept as JSON in <c>attacker_behavior.TimingStats</c>.</summary>
public sealed record TimingStats(
    int EventCount,
    double DurationS,
    double? MeanIatS,
    double? MedianIatS,
    double? StdevIatS,
    double? MinIatS,
    double? MaxIatS,
    double? Cv);

/// <summary>One kill-chain phase the attacker reached, with when it started and ended.</summary>
public sealed record PhaseSpan(string Phase, DateTime FirstSeen, DateTime LastSeen, int EventCount);

/// <summary>The phases in order of first appearance, kept as JSON in <c>attacker_behavior.PhaseSequence</c>.</summary>
public sealed record PhaseSequence(IReadOnlyList<PhaseSpan> Phases, DateTime? ReconEnd, DateTime? ExfilStart, double? ExfilLatencyS);

/// <summary>The JSON shape of the list columns: snake_case like the API, so the stored text is what clients see.</summary>
public static class AttackerJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads a stored list; a damaged column reads as empty rather than failing the whole page.</summary>
    public static List<T> ReadList<T>(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<T>>(json, Options) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static T? Read<T>(string? json) where T : class
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
