namespace Decnet.Tests.Infrastructure;

/// <summary>Trait values: <c>[Trait("Category", TestCategories.Unit)]</c>. CI runs every category.</summary>
public static class TestCategories
{
    public const string Unit = "Unit";
    public const string Integration = "Integration";
    public const string EndToEnd = "EndToEnd";
}
