using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Authentication;
using Decnet.Web.Swarm.Controller;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Web.Api;

/// <summary>Who may call an endpoint.</summary>
public enum Access
{
    /// <summary>Nobody signed in (login, liveness, public pages).</summary>
    Anonymous,

    /// <summary>Any signed-in user, even one that must still change its password.</summary>
    SignedIn,

    /// <summary>Viewer or admin, password changed.</summary>
    Viewer,

    /// <summary>Admin, password changed.</summary>
    Admin,

    /// <summary>A worker over mutual TLS on the swarm controller port only; absent from the dashboard port.</summary>
    Worker,

    /// <summary>
    /// Anonymous on the enrollment endpoint only (HTTPS with the master identity); absent from the dashboard
    /// port. The unguessable bundle token is the credential, the routes are rate limited per address.
    /// </summary>
    EnrollmentToken,
}

/// <summary>
/// Every endpoint the master maps (static files aside), pinned literally to who may call it. An
/// endpoint added without an entry here, or whose authorization differs from its entry, fails; the
/// calls below are then made as anonymous, must-change, viewer and admin callers against the pinned
/// role, not against whatever the endpoint declares.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class AuthorizationMatrixTests : IAsyncLifetime
{
    /// <summary>The expected role of every route, per method ("*": any method). Keep sorted by route.</summary>
    public static readonly IReadOnlyList<(string Endpoint, Access Access)> Expected =
    [
        ("GET /", Access.Viewer),
        ("POST /", Access.Viewer),
        ("* /_blazor", Access.Viewer),
        ("* /_blazor/disconnect/", Access.Viewer),
        ("* /_blazor/initializers/", Access.Viewer),
        ("* /_blazor/negotiate", Access.Viewer),
        ("GET /_framework/opaque-redirect", Access.Viewer),
        ("GET /account/access-denied", Access.SignedIn),
        ("POST /account/access-denied", Access.SignedIn),
        ("GET /account/change-password", Access.SignedIn),
        ("POST /account/change-password", Access.SignedIn),
        ("GET /account/login", Access.Anonymous),
        ("POST /account/login", Access.Anonymous),
        ("POST /account/logout", Access.SignedIn),
        ("GET /alive", Access.Anonymous),
        ("GET /api/v1/artifacts/{decky}/{service}/{storedAs}", Access.Admin),
        ("GET /api/v1/attackers/", Access.Viewer),
        ("GET /api/v1/attackers/export", Access.Viewer),
        ("GET /api/v1/attackers/{id:guid}", Access.Viewer),
        ("GET /api/v1/attackers/{id:guid}/artifacts", Access.Viewer),
        ("GET /api/v1/attackers/{id:guid}/commands", Access.Viewer),
        ("GET /api/v1/attackers/{id:guid}/sessions/", Access.Viewer),
        ("GET /api/v1/attackers/{id:guid}/sessions/{decky}/{service}/{recording}", Access.Viewer),
        ("POST /api/v1/auth/change-password", Access.SignedIn),
        ("POST /api/v1/auth/login", Access.Anonymous),
        ("POST /api/v1/auth/logout", Access.SignedIn),
        ("GET /api/v1/bounty/", Access.Viewer),
        ("GET /api/v1/bounty/export", Access.Viewer),
        ("GET /api/v1/config/", Access.Viewer),
        ("PUT /api/v1/config/deployment-limit", Access.Admin),
        ("PUT /api/v1/config/global-mutation-interval", Access.Admin),
        ("PUT /api/v1/config/log-retention", Access.Admin),
        ("POST /api/v1/config/users", Access.Admin),
        ("DELETE /api/v1/config/users/{id:guid}", Access.Admin),
        ("PUT /api/v1/config/users/{id:guid}/reset-password", Access.Admin),
        ("PUT /api/v1/config/users/{id:guid}/role", Access.Admin),
        ("GET /api/v1/deckies/", Access.Viewer),
        ("DELETE /api/v1/deckies/{name}", Access.Admin),
        ("POST /api/v1/deckies/{name}/mutate", Access.Admin),
        ("PUT /api/v1/deckies/{name}/mutate-interval", Access.Admin),
        ("POST /api/v1/deckies/deploy", Access.Admin),
        ("GET /api/v1/health", Access.Viewer),
        ("GET /api/v1/logs", Access.Viewer),
        ("GET /api/v1/logs/export", Access.Viewer),
        ("GET /api/v1/logs/histogram", Access.Viewer),
        ("GET /api/v1/stats", Access.Viewer),
        ("GET /api/v1/stream/", Access.Viewer),
        ("POST /api/v1/stream/ticket", Access.Viewer),
        ("GET /api/v1/swarm-updates/hosts", Access.Admin),
        ("POST /api/v1/swarm-updates/push", Access.Admin),
        ("POST /api/v1/swarm-updates/push-self", Access.Admin),
        ("POST /api/v1/swarm-updates/rollback", Access.Admin),
        ("GET /api/v1/swarm/deckies", Access.Viewer),
        ("POST /api/v1/swarm/enroll-bundle/", Access.Admin),
        ("GET /api/v1/swarm/hosts", Access.Viewer),
        ("DELETE /api/v1/swarm/hosts/{uuid:guid}", Access.Admin),
        ("POST /api/v1/swarm/hosts/{uuid:guid}/teardown", Access.Admin),
        ("GET /api/v1/swarm/security-events", Access.Viewer),
        ("GET /api/v1/system/deployment-mode", Access.Viewer),
        ("GET /attackers", Access.Viewer),
        ("POST /attackers", Access.Viewer),
        ("GET /attackers/{Id:guid}", Access.Viewer),
        ("POST /attackers/{Id:guid}", Access.Viewer),
        ("GET /bounty", Access.Viewer),
        ("POST /bounty", Access.Viewer),
        ("GET /config", Access.Viewer),
        ("POST /config", Access.Viewer),
        ("GET /downloads/artifacts/{decky}/{service}/{storedAs}", Access.Admin),
        // The dashboard's export buttons (cookie); viewers may export what they may read.
        ("GET /downloads/export/attackers", Access.Viewer),
        ("GET /downloads/export/bounty", Access.Viewer),
        ("GET /downloads/export/logs", Access.Viewer),
        // Capabilities on the enrollment endpoint: the 24-byte token is the credential, valid until it
        // expires or the worker's first heartbeat; rate limited per address (Swarm/Enrollment tests).
        ("GET /enroll/{token}.sh", Access.EnrollmentToken),
        ("GET /enroll/{token}.tgz", Access.EnrollmentToken),
        ("GET /fleet", Access.Viewer),
        ("POST /fleet", Access.Viewer),
        ("GET /health", Access.Worker),
        ("GET /logs", Access.Viewer),
        ("POST /logs", Access.Viewer),
        ("GET /not-found", Access.Anonymous),
        ("POST /not-found", Access.Anonymous),
        ("GET /openapi/v1.json", Access.Viewer),
        ("GET /swarm-updates", Access.Admin),
        ("POST /swarm-updates", Access.Admin),
        ("POST /swarm/check", Access.Worker),
        ("GET /swarm/deckies", Access.Worker),
        ("POST /swarm/deploy", Access.Worker),
        ("POST /swarm/enroll", Access.Worker),
        ("GET /swarm/enrollment", Access.Admin),
        ("POST /swarm/enrollment", Access.Admin),
        ("GET /swarm/health", Access.Worker),
        ("POST /swarm/heartbeat", Access.Worker),
        ("GET /swarm/hosts", Access.Viewer),
        ("POST /swarm/hosts", Access.Viewer),
        ("GET /swarm/hosts", Access.Worker),
        ("DELETE /swarm/hosts/{uuid:guid}", Access.Worker),
        ("GET /swarm/hosts/{uuid:guid}", Access.Worker),
        ("POST /swarm/teardown", Access.Worker),
    ];

    private readonly DecnetWebFactory _factory = new();
    private string _viewerToken = "";
    private string _mustChangeToken = "";

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewerToken = (await _factory.CreateActiveUserAsync("viewer1", UserRole.Viewer)).Token;
        await _factory.Users.CreateAsync("test", "pending", "pending-password-1", UserRole.Admin, CancellationToken.None);
        _mustChangeToken = await _factory.LoginAsync("pending", "pending-password-1");
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>Every routed endpoint but the static files, once per method, with the access its metadata grants.</summary>
    public static IEnumerable<MappedEndpoint> Endpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => new MappedEndpoint(m, e)));

    /// <summary>The API endpoints (bearer tokens, JSON answers), with their pinned access.</summary>
    private IEnumerable<(MappedEndpoint Endpoint, Access Access)> Api() =>
        Endpoints(_factory.Services).Where(e => e.Route.StartsWith("/api/", StringComparison.Ordinal))
            .Select(e => (e, Pinned(e)));

    /// <summary>
    /// The pinned access of a mapped endpoint. One route may serve a page and a worker call
    /// (GET /swarm/hosts): the controller's routing marker, not its authorization, tells them apart.
    /// </summary>
    private static Access Pinned(MappedEndpoint endpoint) =>
        Assert.Single(Expected, x => x.Endpoint == endpoint.ToString() && (x.Access is Access.Worker or Access.EnrollmentToken) == endpoint.OffDashboard).Access;

    [Fact]
    public void Every_endpoint_is_pinned_and_grants_exactly_its_pinned_access()
    {
        var actual = Endpoints(_factory.Services).Select(e => $"{e}: {e.Access}").Order(StringComparer.Ordinal).ToList();
        var expected = Expected.Select(x => $"{x.Endpoint}: {x.Access}").Order(StringComparer.Ordinal).ToList();
        var unexpected = actual.Except(expected).ToList();
        var missing = expected.Except(actual).ToList();
        Assert.True(unexpected.Count == 0 && missing.Count == 0,
            "Mapped but not pinned (a new endpoint, or one whose authorization changed):\n  " + string.Join("\n  ", unexpected) +
            "\nPinned but not mapped like that:\n  " + string.Join("\n  ", missing));
        Assert.Equal(Expected.Count, Expected.Distinct().Count());
    }

    [Fact]
    public void Static_files_are_only_read()
    {
        var files = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is not null).ToList();
        Assert.Contains(files, e => e.RoutePattern.RawText == "_framework/blazor.web.js");
        Assert.All(files, e => Assert.All(e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods, m => Assert.Contains(m, new[] { "GET", "HEAD" })));
    }

    [Fact]
    public async Task Anonymous_callers_get_401_on_every_api_endpoint_not_pinned_anonymous()
    {
        using var client = _factory.CreateClient();
        foreach (var (endpoint, access) in Api())
        {
            var status = await SendAsync(client, endpoint);
            if (access == Access.Anonymous)
            {
                Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{endpoint} gave {(int)status} to an anonymous caller");
            }
            else
            {
                Assert.True(status == HttpStatusCode.Unauthorized, $"{endpoint} gave {(int)status} to an anonymous caller");
            }
        }
    }

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_the_login_from_every_page_and_refused_every_other_signed_in_get()
    {
        using var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var gets = Endpoints(_factory.Services)
            .Where(e => e.Method is "GET" or "*" && !e.Route.StartsWith("/api/", StringComparison.Ordinal) && Pinned(e) is Access.SignedIn or Access.Viewer or Access.Admin)
            .ToList();
        Assert.Contains(gets, e => e.IsPage && e.Route == "/swarm-updates");
        foreach (var endpoint in gets)
        {
            using var response = await client.GetAsync(Path(endpoint.Route));
            if (endpoint.IsPage || response.StatusCode == HttpStatusCode.Redirect)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{endpoint} gave {(int)response.StatusCode} to an anonymous visitor");
                Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{endpoint} gave {(int)response.StatusCode} to an anonymous caller");
            }
        }
    }

    [Fact]
    public async Task A_viewer_token_is_refused_every_admin_page_and_shown_every_viewer_page()
    {
        using var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _viewerToken);
        var pages = Endpoints(_factory.Services).Where(e => e.IsPage && e.Method == "GET" && !e.Route.Contains('{', StringComparison.Ordinal) && Pinned(e) is Access.Viewer or Access.Admin).ToList();
        Assert.Contains(pages, e => Pinned(e) == Access.Admin);
        foreach (var page in pages)
        {
            using var response = await client.GetAsync(page.Route);
            var expected = Pinned(page) == Access.Admin ? HttpStatusCode.Forbidden : HttpStatusCode.OK;
            Assert.True(response.StatusCode == expected, $"{page} gave {(int)response.StatusCode} to a viewer");
        }
    }

    [Fact]
    public async Task A_user_who_must_change_the_password_gets_403_on_every_viewer_and_admin_api_endpoint()
    {
        using var client = _factory.CreateClient(_mustChangeToken);
        foreach (var (endpoint, _) in Api().Where(x => x.Access is Access.Viewer or Access.Admin))
        {
            var status = await SendAsync(client, endpoint);
            Assert.True(status == HttpStatusCode.Forbidden, $"{endpoint} gave {(int)status} to a must-change user");
        }
    }

    [Fact]
    public async Task Viewers_get_403_on_admin_api_endpoints_and_pass_viewer_ones()
    {
        using var client = _factory.CreateClient(_viewerToken);
        foreach (var (endpoint, access) in Api().Where(x => x.Access is Access.Viewer or Access.Admin))
        {
            var status = await SendAsync(client, endpoint);
            if (access == Access.Admin)
            {
                Assert.True(status == HttpStatusCode.Forbidden, $"{endpoint} gave {(int)status} to a viewer");
            }
            else
            {
                Assert.True(status is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"{endpoint} refused a viewer with {(int)status}");
            }
        }
    }

    [Fact]
    public async Task Admins_pass_authorization_on_every_signed_in_api_endpoint()
    {
        foreach (var (endpoint, _) in Api().Where(x => x.Access is Access.SignedIn or Access.Viewer or Access.Admin))
        {
            // A fresh admin per call: logout and password change revoke the caller's tokens.
            var (_, token) = await _factory.CreateActiveUserAsync("adm" + Guid.NewGuid().ToString("N")[..8], UserRole.Admin);
            using var client = _factory.CreateClient(token);
            var status = await SendAsync(client, endpoint);
            Assert.True(status is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"{endpoint} refused an admin with {(int)status}");
        }
    }

    [Fact]
    public async Task Worker_routes_do_not_exist_on_the_dashboard_port_even_for_an_admin()
    {
        var (_, token) = await _factory.CreateActiveUserAsync("adm-worker-check", UserRole.Admin);
        using var client = _factory.CreateClient(token);
        var workers = Endpoints(_factory.Services).Where(e => Pinned(e) is Access.Worker or Access.EnrollmentToken).ToList();
        Assert.Equal(Expected.Count(x => x.Access is Access.Worker or Access.EnrollmentToken), workers.Count);
        Assert.Contains(workers, e => Pinned(e) == Access.EnrollmentToken);
        var dashboard = Endpoints(_factory.Services).Where(e => !e.OffDashboard).Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal);
        foreach (var endpoint in workers)
        {
            using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), Path(endpoint.Route));
            using var response = await client.SendAsync(request);
            if (dashboard.Contains(endpoint.ToString()))
            {
                // The dashboard's page of the same path answers, never the worker call.
                Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{endpoint} answered {(int)response.StatusCode} on the dashboard port");
            }
        }
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, MappedEndpoint endpoint)
    {
        using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method == "*" ? "GET" : endpoint.Method), Path(endpoint.Route));
        if (endpoint.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A concrete path for a route template: a new GUID where a GUID goes, "sample" elsewhere.</summary>
    private static string Path(string route) =>
        RouteParameter().Replace(route, m => m.Value.Contains(":guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString() : "sample");

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();

    public sealed record MappedEndpoint(string Method, RouteEndpoint Endpoint)
    {
        public string Route => Endpoint.RoutePattern.RawText!;

        /// <summary>A Razor component page.</summary>
        public bool IsPage => Endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Components.Endpoints.ComponentTypeMetadata>() is not null;

        /// <summary>The swarm port the endpoint is routed on alone, if any (never the dashboard's).</summary>
        public SwarmPort? Port => Endpoint.Metadata.GetMetadata<SwarmEndpointMetadata>()?.Port;

        /// <summary>Routed only on a swarm port (controller or enrollment), absent from the dashboard's.</summary>
        public bool OffDashboard => Port is not null;

        /// <summary>What the endpoint's metadata grants (no declared policy: the fallback policy, viewer).</summary>
        public Access Access =>
            Port == SwarmPort.Controller ? Access.Worker
            : Port == SwarmPort.Enrollment && Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null ? Access.EnrollmentToken
            : Port is not null ? throw new InvalidOperationException($"{Method} {Route}: a swarm-port route with a dashboard policy")
            : Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null ? Access.Anonymous
            : (Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault()?.Policy ?? Policies.Viewer) switch
            {
                Policies.SignedIn => Access.SignedIn,
                Policies.Viewer => Access.Viewer,
                Policies.Admin => Access.Admin,
                var other => throw new InvalidOperationException($"{Method} {Route}: unknown policy '{other}'"),
            };

        public override string ToString() => $"{Method} {Route}";
    }
}
