using Decnet.Core.Health;

namespace Decnet.Core.Deckies.Docker;

/// <summary>Health of the container engine the Docker runtime depends on; critical, since no decky runs without it.</summary>
public sealed class DockerProbe(DockerDeckyRuntime runtime) : IHealthProbe
{
    public string Name => "docker";

    public bool Critical => true;

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ProbeResult.Ok("engine " + await runtime.PingAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Failing("engine unreachable: " + DockerErrors.Describe(ex));
        }
    }
}
