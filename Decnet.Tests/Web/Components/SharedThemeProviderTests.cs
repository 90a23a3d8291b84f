using Bunit;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;
using MudBlazor;

namespace Decnet.Tests.Web.Components;

/// <summary>The shared theme provider renders exactly what MudBlazor's own renders, palette by palette.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class SharedThemeProviderTests : ComponentTestContext
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_stylesheets_are_mudblazors_own(bool dark)
    {
        var mud = Render<MudThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, dark));
        var shared = Render<SharedThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, dark));

        Assert.Contains("--mud-palette-primary:", shared.Markup, StringComparison.Ordinal);
        Assert.Contains($"--mud-native-html-color-scheme: {(dark ? "dark" : "light")};", shared.Markup, StringComparison.Ordinal);
        Assert.Equal(mud.Markup, shared.Markup);
    }

    [Fact]
    public void Switching_the_palette_switches_the_stylesheet()
    {
        var shared = Render<SharedThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, true));
        Assert.Contains("--mud-native-html-color-scheme: dark;", shared.Markup, StringComparison.Ordinal);

        shared.Render(p => p.Add(t => t.IsDarkMode, false));

        Assert.Contains("--mud-native-html-color-scheme: light;", shared.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("--mud-native-html-color-scheme: dark;", shared.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_circuits_on_one_palette_hold_one_stylesheet()
    {
        // Two renders as two circuits make them: each builds its own text, both keep the shared one.
        var first = SharedThemeProvider.Share(Render<MudThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, true)).Markup);
        var second = Render<MudThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, true)).Markup;

        Assert.NotSame(first, second);
        Assert.Same(first, SharedThemeProvider.Share(second));
    }
}
