using Decnet.Core.Users;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// The dashboard's frame. The palette is the signed-in user's own choice, stored with the account, so it
/// follows the user through sign-out, sign-in and any other browser.
/// </summary>
public partial class MainLayout
{
    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Inject]
    public required UserDirectory Users { get; init; }

    private static readonly MarkupString MenuIcon = new(Icons.Material.Filled.Menu);
    private static readonly MarkupString DarkModeIcon = new(Icons.Material.Filled.DarkMode);
    private static readonly MarkupString LightModeIcon = new(Icons.Material.Filled.LightMode);
    private static readonly MarkupString PersonIcon = new(Icons.Material.Filled.Person);
    private static readonly MarkupString KeyIcon = new(Icons.Material.Filled.Key);
    private static readonly MarkupString LogoutIcon = new(Icons.Material.Filled.Logout);

    private bool _drawerOpen = true;
    private bool _light;
    private int _userMenuGeneration;

    protected override async Task OnInitializedAsync()
    {
        var user = await Operator.GetAsync();
        if (user.Id != Guid.Empty)
        {
            _light = await Users.PrefersLightThemeAsync(user.Id, CancellationToken.None);
        }
    }

    private void ToggleDrawer() => _drawerOpen = !_drawerOpen;

    private void CloseUserMenu() => _userMenuGeneration++;

    private async Task ToggleThemeAsync()
    {
        _light = !_light;
        var user = await Operator.GetAsync();
        if (user.Id != Guid.Empty)
        {
            await Users.SetLightThemeAsync(user.Id, _light, CancellationToken.None);
        }
    }
}
