using System.Net;
using Decnet.Core.Users;
using Decnet.Web.Swarm.Controller;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Exposure;

/// <summary>
/// Refuses to serve the dashboard beyond loopback while an administrator still has the well-known
/// seed password (<c>admin</c>, not yet changed): anyone on the network could take the deception
/// network over. The check reads the addresses Kestrel really bound, however they were configured;
/// until it has passed, requests get 503, so nothing is served in between.
/// </summary>
public sealed class DefaultPasswordGuard(
    UserDirectory users,
    IServer server,
    SwarmControllerListener controller,
    IOptions<TrustedProxyOptions> proxies,
    ILogger<DefaultPasswordGuard> logger) : IHostedLifecycleService
{
    private volatile bool _open;
    private IReadOnlyList<string> _defaultAdmins = [];

    /// <summary>True once the dashboard may answer requests.</summary>
    public bool IsOpen => _open;

    /// <summary>Before Kestrel binds (hosted services start before the server, after the admin is seeded).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _defaultAdmins = await users.AdministratorsStillUsingAsync(UserOptions.DefaultAdminPassword, cancellationToken);
        _open = _defaultAdmins.Count == 0;
    }

    /// <summary>After Kestrel bound: the real addresses.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var exposed = DashboardAddresses().Where(a => !IsLoopback(a)).ToList();
        if (_defaultAdmins.Count > 0 && exposed.Count > 0)
        {
            var message =
                $"Refusing to start: the dashboard listens on {string.Join(", ", exposed)}, beyond loopback, while administrator " +
                $"{string.Join(", ", _defaultAdmins.Select(a => $"'{a}'"))} still has the default password '{UserOptions.DefaultAdminPassword}'. " +
                "Either start once on 127.0.0.1 (DECNET_WEB_HOST=127.0.0.1), sign in and change the password, " +
                "or set a strong initial password with DECNET_ADMIN_PASSWORD before exposing the dashboard.";
            logger.LogCritical("{Message}", message);
            throw new InvalidOperationException(message);
        }
        if (!proxies.Value.Enabled)
        {
            foreach (var address in exposed.Where(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
            {
                logger.LogWarning("The dashboard is served over plain HTTP on {Address}: set Decnet:Web:Tls (DECNET_TLS_CERT) or put a TLS proxy in front", address);
            }
        }
        _open = true;
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every bound address except the swarm's own (controller and enrollment downloads: no dashboard there).</summary>
    private IEnumerable<string> DashboardAddresses()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var swarmPorts = new[] { controller.BoundEndPoint?.Port, controller.EnrollmentEndPoint?.Port }.OfType<int>().ToHashSet();
        return addresses.Where(a => !swarmPorts.Contains(BindingAddress.Parse(a).Port));
    }

    internal static bool IsLoopback(string address)
    {
        var host = BindingAddress.Parse(address).Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
