using Bunit;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Authentication;
using Decnet.Web.Account.Pages;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Web.Components;

/// <summary>
/// The static account pages rendered by bUnit with a real HttpContext whose sign-in goes through the
/// real cookie handler, so a successful form leaves a session cookie behind.
/// </summary>
[Trait("Category", TestCategories.Unit)]
public sealed class AccountPagesTests : ComponentTestContext
{
    private DefaultHttpContext NewHttpContext(System.Security.Claims.ClaimsPrincipal? user = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        services.AddDataProtection();
        var context = new DefaultHttpContext { RequestServices = services.BuildServiceProvider() };
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1");
        if (user is not null)
        {
            context.User = user;
        }
        return context;
    }

    [Fact]
    public void The_login_page_shows_username_and_password_fields()
    {
        var cut = Render<Login>(p => p.AddCascadingValue(NewHttpContext()));
        Assert.NotNull(cut.Find("input#username"));
        Assert.Equal("password", cut.Find("input#password").GetAttribute("type"));
        Assert.Contains("Sign in", cut.Find("button[type=submit]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_credentials_show_an_error_and_set_no_cookie()
    {
        var http = NewHttpContext();
        var cut = Render<Login>(p => p.AddCascadingValue(http));
        cut.Find("input#username").Change("admin");
        cut.Find("input#password").Change("not-the-password");
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.Equal("Invalid username or password.", cut.Find("[data-testid=login-error]").TextContent));
        Assert.False(http.Response.Headers.ContainsKey("Set-Cookie"));
    }

    [Fact]
    public void The_seeded_admin_is_signed_in_and_sent_to_change_its_password()
    {
        var http = NewHttpContext();
        var navigation = Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>();
        var cut = Render<Login>(p => p.AddCascadingValue(http));
        cut.Find("input#username").Change("admin");
        cut.Find("input#password").Change(CoreTestBed.AdminPassword);
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.Contains(navigation.History, h => h.Uri == AuthenticationSetup.ChangePasswordPath));
        Assert.Contains(".AspNetCore.Cookies", http.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_fields_are_rejected_before_any_lookup()
    {
        var cut = Render<Login>(p => p.AddCascadingValue(NewHttpContext()));
        cut.Find("form").Submit();
        cut.WaitForAssertion(() => Assert.Contains("Username is required.", cut.Markup, StringComparison.Ordinal));
        Assert.Contains("Password is required.", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_who_must_change_sees_the_notice_and_a_mismatched_confirmation_is_refused()
    {
        var admin = (await Bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var cut = Render<ChangePassword>(p => p.AddCascadingValue(NewHttpContext(Principal(admin))));
        Assert.NotNull(cut.Find("[data-testid=must-change-notice]"));

        cut.Find("input#current").Change(CoreTestBed.AdminPassword);
        cut.Find("input#new").Change("a-long-new-password");
        cut.Find("input#confirm").Change("a-different-password");
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.Contains("The two new passwords do not match.", cut.Markup, StringComparison.Ordinal));
        Assert.True((await Bed.Users.FindAsync(admin.Id, CancellationToken.None))!.MustChangePassword);
    }

    [Fact]
    public async Task A_short_new_password_shows_the_policy()
    {
        var admin = (await Bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var cut = Render<ChangePassword>(p => p.AddCascadingValue(NewHttpContext(Principal(admin))));

        cut.Find("input#current").Change(CoreTestBed.AdminPassword);
        cut.Find("input#new").Change("short");
        cut.Find("input#confirm").Change("short");
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.Contains("at least 12 characters", cut.Markup, StringComparison.Ordinal));
        Assert.True((await Bed.Users.FindAsync(admin.Id, CancellationToken.None))!.MustChangePassword);
    }

    [Fact]
    public async Task A_good_new_password_clears_the_flag_renews_the_cookie_and_goes_to_the_dashboard()
    {
        var admin = (await Bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var http = NewHttpContext(Principal(admin));
        var navigation = Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>();
        var cut = Render<ChangePassword>(p => p.AddCascadingValue(http));

        cut.Find("input#current").Change(CoreTestBed.AdminPassword);
        cut.Find("input#new").Change("a-long-new-password");
        cut.Find("input#confirm").Change("a-long-new-password");
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.Contains(navigation.History, h => h.Uri == "/"));
        Assert.False((await Bed.Users.FindAsync(admin.Id, CancellationToken.None))!.MustChangePassword);
        Assert.Contains(".AspNetCore.Cookies", http.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }
}
