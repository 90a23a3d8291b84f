namespace Decnet.Tests.Infrastructure;

/// <summary>Trait values: <c>[Trait("Category", TestCategories.Unit)]</c>. CI runs every category.</summary>
public static class TestCategories
{
    public const string Unit = "Unit";
    public const string Integration = "Integration";
    public const string EndToEnd = "EndToEnd";

    /// <summary>
    /// Measures the whole test process (heap, file descriptors): run by <c>test.sh</c> in a test process of its
    /// own, in <see cref="ProcessMeasurementCollection"/>.
    /// </summary>
    public const string Isolated = "Isolated";
}
