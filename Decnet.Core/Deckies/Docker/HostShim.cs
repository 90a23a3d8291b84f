using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// The host helper interface: a macvlan (bridge mode) or ipvlan (l2) link on the decky network's parent,
/// with its own /32 address and a route for the decky range. macvlan/ipvlan children cannot talk to their
/// parent device, so without it the host (collector, prober, tests) cannot reach its own deckies.
/// Driven through iproute2 with argument lists, never a shell string. Needs CAP_NET_ADMIN.
/// </summary>
public sealed class HostShim(ILogger<HostShim> logger)
{
    /// <summary>Recreates the helper for <paramref name="plan"/> and drops the other driver's helper.</summary>
    public async Task EnsureAsync(DeckyNetworkPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.ShimAddress is null)
        {
            return;
        }

        await DeleteIfPresentAsync(plan.OtherShimName, cancellationToken).ConfigureAwait(false);
        // Recreated rather than patched: parent, mode or address may all have changed since the last deploy.
        await DeleteIfPresentAsync(plan.ShimName, cancellationToken).ConfigureAwait(false);

        string[] link = plan.Ipvlan
            ? ["link", "add", "link", plan.Parent, "name", plan.ShimName, "type", "ipvlan", "mode", "l2"]
            : ["link", "add", "link", plan.Parent, "name", plan.ShimName, "type", "macvlan", "mode", "bridge"];
        await RunCheckedAsync(link, cancellationToken).ConfigureAwait(false);
        await RunCheckedAsync(["addr", "add", $"{plan.ShimAddress}/32", "dev", plan.ShimName], cancellationToken).ConfigureAwait(false);
        await RunCheckedAsync(["link", "set", plan.ShimName, "up"], cancellationToken).ConfigureAwait(false);
        await RunCheckedAsync(["route", "replace", plan.IpRange, "dev", plan.ShimName, "src", plan.ShimAddress], cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Host shim {Shim} on {Parent} at {Address}, route {Range}", plan.ShimName, plan.Parent, plan.ShimAddress, plan.IpRange);
    }

    /// <summary>Deletes both helpers; their routes go with the links.</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken)
    {
        await DeleteIfPresentAsync(DeckyNetworkPlan.MacvlanShimName, cancellationToken).ConfigureAwait(false);
        await DeleteIfPresentAsync(DeckyNetworkPlan.IpvlanShimName, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        (await RunAsync(["link", "show", "dev", name], cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    private async Task DeleteIfPresentAsync(string name, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            await RunCheckedAsync(["link", "del", "dev", name], cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Removed host shim {Shim}", name);
        }
    }

    private static async Task RunCheckedAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(arguments, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Error.Trim()}");
        }
    }

    private static async Task<(int ExitCode, string Error)> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start 'ip' (iproute2).");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await output.ConfigureAwait(false);
        return (process.ExitCode, await error.ConfigureAwait(false));
    }
}
