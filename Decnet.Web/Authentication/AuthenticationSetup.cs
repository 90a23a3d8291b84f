using System.Globalization;
using System.Security.Claims;
using Decnet.Core.Configuration;
using Decnet.Core.Users;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Authentication;

/// <summary>
/// Two faces, one account model: a cookie for the dashboard, JWT bearer for <c>/api/v1</c>. A policy
/// scheme picks by path, so a browser cookie never authenticates an API call.
/// </summary>
public static class AuthenticationSetup
{
    public const string Scheme = "decnet";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string BearerScheme = JwtBearerDefaults.AuthenticationScheme;
    public const string LoginPath = "/account/login";
    public const string ChangePasswordPath = "/account/change-password";

    public static IServiceCollection AddDecnetAuthentication(this IServiceCollection services)
    {
        services.AddValidatedOptions<AuthOptions, AuthOptionsValidator>(AuthOptions.Section);
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<SessionValidator>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();

        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Cookie for pages, bearer for the API", o =>
                o.ForwardDefaultSelector = context => IsApi(context.Request) || HasBearerToken(context.Request) ? BearerScheme : CookieScheme)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = "decnet.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.SlidingExpiration = true;
                o.LoginPath = LoginPath;
                o.AccessDeniedPath = "/account/access-denied";
                o.Events = new CookieAuthenticationEvents
                {
                    OnValidatePrincipal = ValidateCookieAsync,
                    OnRedirectToAccessDenied = context =>
                    {
                        context.Response.Redirect(context.HttpContext.User.MustChangePassword() ? ChangePasswordPath : context.RedirectUri);
                        return Task.CompletedTask;
                    },
                };
            })
            .AddJwtBearer(BearerScheme, o =>
            {
                o.MapInboundClaims = false;
                o.TokenHandlers.Clear();
                o.TokenHandlers.Add(new ValidatedTokenCache());
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = async context =>
                    {
                        var validator = context.HttpContext.RequestServices.GetRequiredService<SessionValidator>();
                        var refreshed = await validator.RefreshAsync(context.Principal!, BearerScheme, context.HttpContext.RequestAborted);
                        if (refreshed is null)
                        {
                            context.Fail("Token revoked.");
                            return;
                        }
                        context.Principal = refreshed;
                    },
                };
            });

        services.AddOptions<CookieAuthenticationOptions>(CookieScheme).Configure<IOptions<AuthOptions>>((cookie, auth) =>
            cookie.ExpireTimeSpan = auth.Value.SessionIdleTimeout);
        services.AddOptions<JwtBearerOptions>(BearerScheme).Configure<TokenService>((jwt, tokens) =>
            jwt.TokenValidationParameters = tokens.ValidationParameters());

        services.AddAuthorization();
        services.AddDecnetPolicies();
        services.AddCascadingAuthenticationState();
        return services;
    }

    private static bool HasBearerToken(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        || request.Path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase);

    /// <summary>Signs a user into the dashboard; the session's absolute lifetime starts now.</summary>
    public static Task SignInDashboardAsync(HttpContext context, UserSnapshot user, TimeProvider time)
    {
        var start = new Claim(DecnetClaims.SessionStart, time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        var principal = new ClaimsPrincipal(DecnetClaims.Identity(user, CookieScheme, start));
        return context.SignInAsync(CookieScheme, principal, new AuthenticationProperties { IsPersistent = false, AllowRefresh = true });
    }

    private static async Task ValidateCookieAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var started = long.TryParse(context.Principal?.FindFirstValue(DecnetClaims.SessionStart), CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.MinValue;
        var refreshed = now - started > auth.SessionAbsoluteTimeout
            ? null
            : await services.GetRequiredService<SessionValidator>().RefreshAsync(context.Principal!, CookieScheme, context.HttpContext.RequestAborted);
        if (refreshed is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
            return;
        }
        context.ReplacePrincipal(refreshed);
    }
}
