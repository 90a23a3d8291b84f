using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// The dashboard's palettes: dark by default, light for operators who choose it (kept per user). System
/// fonts only: no external font downloads.
/// </summary>
public static class DecnetTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#127a4b",
            Secondary = "#4b56c9",
            Tertiary = "#a86500",
            Background = "#f6f8fa",
            Surface = "#ffffff",
            DrawerBackground = "#eef1f4",
            AppbarBackground = "#eef1f4",
            AppbarText = "#1f2328",
            TextPrimary = "#1f2328",
            TextSecondary = "#57606a",
            Error = "#c62828",
            Warning = "#a86500",
            Success = "#127a4b",
            Info = "#0a69c7",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#39d98a",
            Secondary = "#7c8cff",
            Tertiary = "#f5a524",
            Background = "#0d1117",
            Surface = "#161b22",
            DrawerBackground = "#10151c",
            AppbarBackground = "#10151c",
            TextPrimary = "#e6edf3",
            TextSecondary = "#9da7b3",
            Error = "#ff5c5c",
            Warning = "#f5a524",
            Success = "#39d98a",
            Info = "#4fb3ff",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
            },
        },
    };
}
