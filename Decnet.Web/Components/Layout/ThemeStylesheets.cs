using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// MudBlazor's theme stylesheets (about 12 KB of CSS variables per palette), rendered once per palette for the
/// whole process by MudBlazor's own <see cref="MudThemeProvider"/> through a static HTML render, and written into
/// the page's static head rather than into each live circuit. As a provider component in every circuit they cost
/// a component, its render trees, 25 KB in every circuit's first render batch, and a JS interop watch on the
/// system palette we do not use (the palette is the operator's stored choice). Each palette's variables apply
/// while the frame carries its class (<see cref="DarkClass"/> or <see cref="LightClass"/>), so switching the
/// palette is switching one class; the static account pages carry neither and keep the dark fallbacks of
/// <c>decnet.css</c>. <c>ThemeStylesheetsTests</c> pin the text to the provider's own.
/// </summary>
public sealed class ThemeStylesheets
{
    public const string DarkClass = "theme-dark";
    public const string LightClass = "theme-light";

    /// <summary>The provider's palette variables are declared on <c>:root</c>; here they apply under one frame class.</summary>
    private const string ProviderRoot = ":root{";

    private readonly Lazy<Task<string>> _dark;
    private readonly Lazy<Task<string>> _light;
    private readonly Lazy<Task<string>> _head;

    public ThemeStylesheets(IServiceProvider services, ILoggerFactory loggers)
    {
        _dark = new(() => RenderAsync(services, loggers, dark: true));
        _light = new(() => RenderAsync(services, loggers, dark: false));
        _head = new(BuildHeadAsync);
    }

    /// <summary>What MudBlazor's theme provider renders for the light or the dark palette.</summary>
    public Task<string> GetAsync(bool light) => (light ? _light : _dark).Value;

    /// <summary>Both palettes for the page's head, each under its frame class (the same instance for every page).</summary>
    public Task<string> HeadAsync() => _head.Value;

    /// <summary>
    /// The provider's output is its palette-free styles (scrollbars) and one <c>:root</c> block of variables: the
    /// former once, each palette's block under its class (<c>:root:has(.theme-dark)</c>), so the variables still
    /// sit on the root and reach the page's background, popovers and dialogs.
    /// </summary>
    private async Task<string> BuildHeadAsync()
    {
        var dark = await _dark.Value;
        var light = await _light.Value;
        var darkTag = PaletteStart(dark);
        var lightTag = PaletteStart(light);
        if (darkTag < 0 || lightTag < 0 || !dark.AsSpan(0, darkTag).SequenceEqual(light.AsSpan(0, lightTag)))
        {
            throw new InvalidOperationException("MudBlazor's theme provider no longer renders shared styles and then one :root block; ThemeStylesheets must follow it.");
        }
        return dark.Replace(ProviderRoot, Scoped(DarkClass), StringComparison.Ordinal)
            + light[lightTag..].Replace(ProviderRoot, Scoped(LightClass), StringComparison.Ordinal);
    }

    /// <summary>Where the style element with the palette's single <c>:root</c> block starts, or -1.</summary>
    private static int PaletteStart(string stylesheets)
    {
        var root = stylesheets.IndexOf(ProviderRoot, StringComparison.Ordinal);
        return root < 0 || stylesheets.IndexOf(ProviderRoot, root + 1, StringComparison.Ordinal) >= 0
            ? -1
            : stylesheets.LastIndexOf("<style", root, StringComparison.Ordinal);
    }

    private static string Scoped(string frameClass) => $":root:has(.{frameClass}){{";

    private static async Task<string> RenderAsync(IServiceProvider services, ILoggerFactory loggers, bool dark)
    {
        await using var scope = services.CreateAsyncScope();
        await using var renderer = new HtmlRenderer(scope.ServiceProvider, loggers);
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(MudThemeProvider.Theme)] = DecnetTheme.Theme,
                [nameof(MudThemeProvider.IsDarkMode)] = dark,
            });
            var output = await renderer.RenderComponentAsync<MudThemeProvider>(parameters);
            return output.ToHtmlString();
        });
    }
}
