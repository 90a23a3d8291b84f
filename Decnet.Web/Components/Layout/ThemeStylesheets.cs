using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// MudBlazor's theme stylesheets (about 25 KB of CSS variables per palette) rendered once per palette for the
/// whole process, by MudBlazor's own <see cref="MudThemeProvider"/> through a static HTML render, and shared by
/// every circuit's layout as markup. As a provider component in each circuit they cost a component, its two
/// render trees with their own copy of the text, and a JS interop watch on the system palette we do not use
/// (the palette is the operator's stored choice). <c>ThemeStylesheetsTests</c> pin the text to the provider's.
/// </summary>
public sealed class ThemeStylesheets(IServiceProvider services, ILoggerFactory loggers)
{
    private readonly Lazy<Task<string>> _dark = new(() => RenderAsync(services, loggers, dark: true));
    private readonly Lazy<Task<string>> _light = new(() => RenderAsync(services, loggers, dark: false));

    /// <summary>The stylesheets of the light or the dark palette (the same instance for every caller).</summary>
    public Task<string> GetAsync(bool light) => (light ? _light : _dark).Value;

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
