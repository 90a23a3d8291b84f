using Decnet.Core.Users;
using Microsoft.AspNetCore.Components;

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

    private bool _drawerOpen = true;
    private bool _light;

    protected override async Task OnInitializedAsync()
    {
        var user = await Operator.GetAsync();
        if (user.Id != Guid.Empty)
        {
            _light = await Users.PrefersLightThemeAsync(user.Id, CancellationToken.None);
        }
    }

    private void ToggleDrawer() => _drawerOpen = !_drawerOpen;

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
