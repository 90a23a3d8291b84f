using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>The dashboard's dark theme. System fonts only: no external font downloads.</summary>
public static class DecnetTheme
{
    public static readonly MudTheme Theme = new()
    {
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
