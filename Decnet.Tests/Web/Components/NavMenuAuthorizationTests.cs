using Bunit;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Layout;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

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

    [Theory]
    [InlineData("/", "Dashboard")]
    [InlineData("/logs?q=ssh", "Live Logs")]
    [InlineData("/swarm/hosts/worker-1", "Swarm Hosts")]
    [InlineData("/swarm-updates", "Remote Updates")]
    public async Task The_current_section_alone_is_marked(string path, string section)
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Services.GetRequiredService<NavigationManager>().NavigateTo(path);

        var menu = Render<NavMenu>();

        var current = menu.FindAll("a[aria-current=page]");
        Assert.Single(current);
        Assert.Equal(section, current[0].TextContent.Trim());
    }

    [Fact]
    public async Task Moving_to_another_section_moves_the_mark()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var menu = Render<NavMenu>();

        Services.GetRequiredService<NavigationManager>().NavigateTo("/bounty");

        menu.WaitForAssertion(() => Assert.Equal("Bounty", menu.Find("a[aria-current=page]").TextContent.Trim()));
        Assert.Equal("/bounty", menu.Find("a[aria-current=page]").GetAttribute("href"));
    }
}
