namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// Labels on every container and network the runtime creates. Discovery, status and teardown select by
/// these labels only, never by container name, so renamed or half-created containers are still found.
/// </summary>
public static class DockerLabels
{
    public const string Managed = "decnet.managed";
    public const string Decky = "decnet.decky";
    public const string Service = "decnet.service";
    public const string Role = "decnet.role";

    /// <summary>JSON snapshot of the decky's configuration, on the base container, so status survives a restart.</summary>
    public const string Config = "decnet.config";

    /// <summary>"true" on the container of a bring-your-own service: its stdout is the operator's program's, not RFC 5424.</summary>
    public const string Custom = "decnet.custom";

    /// <summary>The decky's address, on custom service containers: their output names it, and it is not the attacker.</summary>
    public const string Ip = "decnet.ip";

    public const string BaseRole = "base";
    public const string ServiceRole = "service";

    /// <summary>Engine list filter matching labels "key=value" (all must match).</summary>
    public static IDictionary<string, IDictionary<string, bool>> Filter(params string[] labels) =>
        new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = labels.ToDictionary(label => label, _ => true),
        };

    public static IDictionary<string, IDictionary<string, bool>> ManagedFilter() => Filter($"{Managed}=true");

    public static IDictionary<string, IDictionary<string, bool>> DeckyFilter(string decky) =>
        Filter($"{Managed}=true", $"{Decky}={decky}");
}
