namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// Fuzz campaigns measure the managed heap; anything else running in the process at the same time
/// would be measured with them, so this collection runs alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Protocol fuzzing";
}
