using Bunit;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;

namespace Decnet.Tests.Web.Components;

/// <summary>The shared theme stylesheets are exactly what MudBlazor's own theme provider renders, palette by palette.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class ThemeStylesheetsTests : ComponentTestContext
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_stylesheets_are_mudblazors_own(bool dark)
    {
        var mud = Render<MudThemeProvider>(p => p.Add(t => t.Theme, DecnetTheme.Theme).Add(t => t.IsDarkMode, dark));
        var stylesheets = new ThemeStylesheets(Services, NullLoggerFactory.Instance);

        var shared = await stylesheets.GetAsync(light: !dark);

        Assert.Contains("--mud-palette-primary:", shared, StringComparison.Ordinal);
        Assert.Contains($"--mud-native-html-color-scheme: {(dark ? "dark" : "light")};", shared, StringComparison.Ordinal);
        Assert.Equal(mud.Markup, shared);
    }

    [Fact]
    public async Task Every_layout_on_one_palette_holds_one_stylesheet_and_the_toggle_switches_it()
    {
        SignIn(await Bed.CreateActiveUserAsync("painter", "painter-password-1", Decnet.Core.Users.UserRole.Viewer));
        var first = Render<MainLayout>();
        var second = Render<MainLayout>();
        var stylesheets = Services.GetRequiredService<ThemeStylesheets>();
        Assert.Same(await stylesheets.GetAsync(light: false), await stylesheets.GetAsync(light: false));
        Assert.Contains("--mud-native-html-color-scheme: dark;", first.Markup, StringComparison.Ordinal);
        Assert.Contains("--mud-native-html-color-scheme: dark;", second.Markup, StringComparison.Ordinal);

        await first.Find("[data-testid=theme-toggle]").ClickAsync(new());

        first.WaitForAssertion(() => Assert.Contains("--mud-native-html-color-scheme: light;", first.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain("--mud-native-html-color-scheme: dark;", first.Markup, StringComparison.Ordinal);
    }

}
