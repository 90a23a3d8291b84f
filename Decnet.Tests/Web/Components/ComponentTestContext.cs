using System.Security.Claims;
using Bunit;
using Decnet.Core.Settings;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Authentication;
using Decnet.Web.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Decnet.Tests.Web.Components;

/// <summary>bUnit with MudBlazor and the real domain services on a temp database.</summary>
public abstract class ComponentTestContext : BunitContext, IAsyncLifetime
{
    protected CoreTestBed Bed { get; private set; } = null!;

    public virtual async ValueTask InitializeAsync()
    {
        Bed = await CoreTestBed.StartAsync();
        // Pages load through the database reader pool, so a first render completes asynchronously, on a 2-core
        // machine shared with other builds sometimes after bUnit's 1 s default: waits get longer, not weaker.
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<Decnet.Web.Components.Layout.ThemeStylesheets>();
        Services.AddSingleton<Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider, FixedAntiforgery>();
        Services.AddSingleton(Bed.Users);
        Services.AddSingleton(Bed.Services.GetRequiredService<SystemSettingsService>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Overview.EventStatistics>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Events.Retention.LogPurger>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Overview.DashboardOverview>());
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<SessionValidator>();
        Services.AddScoped<CurrentOperator>();
    }

    public new virtual async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Bed.DisposeAsync();
    }

    /// <summary>
    /// Signs the test's principal in as <paramref name="user"/> (claims as the real cookie carries them),
    /// judged by the product's real policies.
    /// </summary>
    protected void SignIn(User user) => DashboardAuthorization.SignIn(this, user);

    /// <summary>Another administrator makes <paramref name="user"/> a viewer (its security stamp rotates).</summary>
    protected async Task DemoteAsync(User user)
    {
        var demoted = await Bed.Users.SetRoleAsync(Guid.NewGuid(), "other-admin", user.Id, UserRole.Viewer, CancellationToken.None);
        Assert.True(demoted.Succeeded, string.Join(" ", demoted.Errors));
    }

    protected static ClaimsPrincipal Principal(User user) =>
        new(DecnetClaims.Identity(UserSnapshot.From(user), "test"));

    /// <summary>The request token a page rendered by the server would carry (bUnit has no HTTP request to take one from).</summary>
    internal sealed class FixedAntiforgery : Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider
    {
        public const string Token = "test-antiforgery-token";

        public override Microsoft.AspNetCore.Components.Forms.AntiforgeryRequestToken? GetAntiforgeryToken() => new(Token, "__RequestVerificationToken");
    }
}
