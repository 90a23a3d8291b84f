using System.Text.Json;
using System.Text.Json.Serialization;

namespace Decnet.Core.Deckies;

/// <summary>
/// The JSON form of decky and deployment snapshots, shared by the master's database column and the
/// worker protocol. Reading is tolerant: fields a newer or older peer does not know are ignored and
/// missing optional fields take their defaults, so master and workers can be upgraded one at a time.
/// </summary>
public static class DeckyConfigJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize(DeckyConfig decky) => JsonSerializer.Serialize(decky, Options);

    public static string Serialize(DecnetConfig deployment) => JsonSerializer.Serialize(deployment, Options);

    public static string Serialize(IReadOnlyList<DeckyConfig> deckies) => JsonSerializer.Serialize(deckies, Options);

    /// <exception cref="JsonException">The text is not a valid decky snapshot.</exception>
    public static DeckyConfig DeserializeDecky(string json) => Read<DeckyConfig>(json);

    /// <exception cref="JsonException">The text is not a valid deployment snapshot.</exception>
    public static DecnetConfig DeserializeDeployment(string json) => Read<DecnetConfig>(json);

    /// <exception cref="JsonException">The text is not a valid list of decky snapshots.</exception>
    public static IReadOnlyList<DeckyConfig> DeserializeDeckies(string json) => Read<List<DeckyConfig>>(json);

    private static T Read<T>(string json)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options)
                ?? throw new JsonException($"Expected a {typeof(T).Name} snapshot but the JSON was null.");
        }
        catch (ArgumentException ex)
        {
            // The records reject impossible states (a decky without services) in their setters;
            // callers of a deserializer expect a JsonException for every bad payload.
            throw new JsonException($"Invalid {typeof(T).Name} snapshot: {ex.Message}", ex);
        }
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            // Nulls are written: a null deployment mutate_interval means "rotation off" and must not
            // read back as the default.
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            WriteIndented = false,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
