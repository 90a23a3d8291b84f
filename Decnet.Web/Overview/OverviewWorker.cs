using Decnet.Core.Overview;

namespace Decnet.Web.Overview;

/// <summary>Keeps the dashboard overview publishing for the life of the master.</summary>
public sealed class OverviewWorker(DashboardOverview overview) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => overview.RunAsync(stoppingToken);
}
