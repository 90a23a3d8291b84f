using Bunit;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;

namespace Decnet.Tests.Web.Components;

/// <summary>The theme stylesheets in the page head are exactly what MudBlazor's own theme provider renders, palette by palette.</summary>
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
    public async Task The_head_holds_both_palettes_each_under_its_frame_class()
    {
        var stylesheets = new ThemeStylesheets(Services, NullLoggerFactory.Instance);
        var dark = await stylesheets.GetAsync(light: false);
        var light = await stylesheets.GetAsync(light: true);

        var head = await stylesheets.HeadAsync();

        Assert.Same(head, await stylesheets.HeadAsync());
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(head, @":root:has\(\.theme-dark\)\{"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(head, @":root:has\(\.theme-light\)\{"));
        Assert.DoesNotContain(":root{", head, StringComparison.Ordinal);
        // Unscoped again, the head is the dark provider's output followed by the light palette's block.
        var unscoped = head.Replace(":root:has(.theme-dark){", ":root{", StringComparison.Ordinal).Replace(":root:has(.theme-light){", ":root{", StringComparison.Ordinal);
        Assert.StartsWith(dark, unscoped, StringComparison.Ordinal);
        Assert.Equal(light[light.IndexOf("<style class='mud-theme-provider'>", StringComparison.Ordinal)..], unscoped[dark.Length..]);
    }

    [Fact]
    public async Task The_frame_carries_the_palette_class_and_the_toggle_switches_it()
    {
        SignIn(await Bed.CreateActiveUserAsync("painter", "painter-password-1", Decnet.Core.Users.UserRole.Viewer));
        var layout = Render<MainLayout>();
        Assert.Contains(ThemeStylesheets.DarkClass, layout.Find(".mud-layout").ClassList);
        // No stylesheet in the live frame: it is in the page's static head.
        Assert.DoesNotContain("--mud-palette-primary", layout.Markup, StringComparison.Ordinal);

        await layout.Find("[data-testid=theme-toggle]").ClickAsync(new());

        layout.WaitForAssertion(() => Assert.Contains(ThemeStylesheets.LightClass, layout.Find(".mud-layout").ClassList));
        Assert.DoesNotContain(ThemeStylesheets.DarkClass, layout.Find(".mud-layout").ClassList);
    }
}
