using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Api;

/// <summary>At start, brings back the deckies this worker ran before it stopped (see <see cref="WorkerDeckies"/>).</summary>
public sealed class DeploymentRestore(WorkerDeckies deckies, ILogger<DeploymentRestore> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await deckies.RestoreAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Restoring the saved deployment failed; waiting for the master");
        }
    }
}
