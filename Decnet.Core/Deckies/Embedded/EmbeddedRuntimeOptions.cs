using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Deckies.Embedded;

public sealed class EmbeddedRuntimeOptions
{
    public const string Section = "Decnet:Runtime:Embedded";

    /// <summary>
    /// Added to ports below 1024. Null means automatic: 0 when this process may bind privileged
    /// ports (root, or a lowered ip_unprivileged_port_start), otherwise 10000 (22 → 10022).
    /// </summary>
    public int? PrivilegedPortOffset { get; set; }

    internal int ResolveOffset() => PrivilegedPortOffset ?? (CanBindPrivilegedPorts() ? 0 : 10_000);

    private static bool CanBindPrivilegedPorts()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return true;
        }
        try
        {
            var start = File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim();
            return int.TryParse(start, out var first) && first <= 1;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>Every problem with <c>Decnet:Runtime:Embedded</c> at once, each with its key.</summary>
public sealed class EmbeddedRuntimeOptionsValidator : IValidateOptions<EmbeddedRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(EmbeddedRuntimeOptions.Section);
        if (options.PrivilegedPortOffset is { } offset)
        {
            // Port 1023 plus the offset must still be a port.
            problems.Range(nameof(options.PrivilegedPortOffset), offset, 0, 65535 - 1023);
        }
        return problems.Result();
    }
}
