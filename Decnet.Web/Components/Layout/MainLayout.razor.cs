using System.Security.Claims;
using Decnet.Core.Users;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
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

    [Inject]
    public required NavigationManager Navigation { get; init; }

    [Inject]
    public required AntiforgeryStateProvider Antiforgery { get; init; }

    /// <summary>The signed-in operator (the frame is also shown around the sign-in redirect, without the user's controls).</summary>
    [CascadingParameter]
    public Task<AuthenticationState>? AuthenticationState { get; set; }

    private static readonly MarkupString MenuIcon = new(Icons.Material.Filled.Menu);
    private static readonly MarkupString DarkModeIcon = new(Icons.Material.Filled.DarkMode);
    private static readonly MarkupString LightModeIcon = new(Icons.Material.Filled.LightMode);
    private static readonly MarkupString PersonIcon = new(Icons.Material.Filled.Person);
    private static readonly MarkupString KeyIcon = new(Icons.Material.Filled.Key);
    private static readonly MarkupString LogoutIcon = new(Icons.Material.Filled.Logout);

    private bool _light;
    private ClaimsPrincipal? _user;

    /// <summary>Whether the overlay providers are rendered: from the first page that is not the dashboard on, for the circuit's life.</summary>
    private bool _overlays;
    private int _userMenuGeneration;

    protected override async Task OnInitializedAsync()
    {
        var user = await Operator.GetAsync();
        if (user.Id != Guid.Empty)
        {
            _light = await Users.PrefersLightThemeAsync(user.Id, CancellationToken.None);
        }
    }

    /// <summary>Each navigation sets the layout's body again: the providers come with the first page that may need them.</summary>
    protected override async Task OnParametersSetAsync()
    {
        _overlays |= !IsDashboard(Navigation.ToBaseRelativePath(Navigation.Uri));
        var user = AuthenticationState is null ? null : (await AuthenticationState).User;
        _user = user?.Identity?.IsAuthenticated == true ? user : null;
    }

    /// <summary>The dashboard ("/", with or without a query) opens no popover, dialog or snackbar.</summary>
    internal static bool IsDashboard(string relativePath) => relativePath.Length == 0 || relativePath[0] is '?' or '#';

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
