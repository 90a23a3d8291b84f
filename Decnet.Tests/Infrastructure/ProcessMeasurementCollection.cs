namespace Decnet.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole test process (the managed heap after full collections, open file
/// descriptors): anything else running in the process at the same time would be measured with them. The
/// collection runs its tests one at a time, and its classes carry <see cref="TestCategories.Isolated"/>, which
/// <c>test.sh</c> runs in a test process of their own beside the parallel suite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMeasurementCollection
{
    public const string Name = "Process-wide measurements";
}
