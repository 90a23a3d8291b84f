using Decnet.Core.Attackers;

namespace Decnet.Web.Attackers;

/// <summary>Hosts the attacker profiler's loop for the life of the web process.</summary>
public sealed class ProfilerWorker(ProfilerLoop loop) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => loop.RunAsync(stoppingToken);
}
