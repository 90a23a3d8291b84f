using Bunit;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;

namespace Decnet.Tests.Web.Components;

/// <summary>
/// The admin-only navigation entries, decided by the product's admin policy against real claims: the
/// role claim and the password-change claim both count, as they do in the dashboard.
/// </summary>
[Trait("Category", TestCategories.Unit)]
public sealed class NavMenuAuthorizationTests : ComponentTestContext
{
    [Fact]
    public async Task An_active_admin_sees_enrollment_and_updates()
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));

        var menu = Render<NavMenu>();

        Assert.Contains("Agent Enrollment", menu.Markup, StringComparison.Ordinal);
        Assert.Contains("Remote Updates", menu.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_sees_neither()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var menu = Render<NavMenu>();

        Assert.Contains("Swarm Hosts", menu.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Agent Enrollment", menu.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Remote Updates", menu.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_who_must_still_change_the_password_sees_neither()
    {
        var created = await Bed.Users.CreateAsync("test", "fresh", "fresh-password-1", UserRole.Admin, CancellationToken.None);
        Assert.True(created.User!.MustChangePassword);
        SignIn(created.User);

        var menu = Render<NavMenu>();

        Assert.DoesNotContain("Agent Enrollment", menu.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Remote Updates", menu.Markup, StringComparison.Ordinal);
    }
}
