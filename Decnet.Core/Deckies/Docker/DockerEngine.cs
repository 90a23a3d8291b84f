using Docker.DotNet;

namespace Decnet.Core.Deckies.Docker;

/// <summary>Builds engine clients from <see cref="DockerRuntimeOptions"/>.</summary>
public static class DockerEngine
{
    /// <summary>
    /// No API version is pinned: the client then speaks the engine's own current version, so both the
    /// Debian engine (API 1.41) and current Docker releases (which refuse old versions) work.
    /// </summary>
    public static DockerClient CreateClient(DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DockerClientBuilder()
            .WithEndpoint(new Uri(options.Endpoint))
            .WithTimeout(options.RequestTimeout)
            .Build();
    }
}
