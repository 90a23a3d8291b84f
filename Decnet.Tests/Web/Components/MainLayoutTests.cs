using Bunit;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;

namespace Decnet.Tests.Web.Components;

/// <summary>The dashboard frame's controls, with the product's real user store and policies.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class MainLayoutTests : ComponentTestContext
{
    [Fact]
    public async Task The_user_menu_names_the_operator_and_role_and_leads_to_the_password_change()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var layout = Render<MainLayout>();

        Assert.Equal("reader · viewer", layout.Find("[data-testid=user-menu]").TextContent.Trim());
        var item = layout.Find("details.user-menu [role=menuitem]");
        Assert.Equal("/account/change-password", item.GetAttribute("href"));
        Assert.Equal("Change password", item.TextContent.Trim());
        Assert.Null(layout.Find("details.user-menu").GetAttribute("open"));
        // Sign-out is a form post: it carries the page's antiforgery token.
        Assert.Equal(FixedAntiforgery.Token, layout.Find("form.logout-form input[name=__RequestVerificationToken]").GetAttribute("value"));
    }

    [Fact]
    public async Task The_theme_toggle_switches_the_palette_and_remembers_it_for_the_user()
    {
        var user = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(user);
        var layout = Render<MainLayout>();
        Assert.Equal("dark", layout.Find("[data-testid=theme-toggle]").GetAttribute("data-theme"));

        await layout.Find("[data-testid=theme-toggle]").ClickAsync(new());

        layout.WaitForAssertion(() => Assert.Equal("light", layout.Find("[data-testid=theme-toggle]").GetAttribute("data-theme")));
        Assert.True(await Bed.Users.PrefersLightThemeAsync(user.Id, CancellationToken.None));
    }
}
