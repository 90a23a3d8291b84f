namespace Decnet.Tests.Deckies.Docker;

/// <summary>
/// Every test class that needs the private Docker engine joins this collection: one engine and one image
/// build for all of them, and no two of them deploying on the same bridge and addresses at once.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DockerEngineCollection : ICollectionFixture<DockerEngineFixture>
{
    public const string Name = "Docker engine";
}
