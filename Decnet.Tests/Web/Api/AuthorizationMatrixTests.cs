using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Web.Api;

/// <summary>
/// Walks every endpoint the application maps under /api (new ones are covered automatically) and
/// proves who gets in: nobody anonymous, nobody who must still change a password, viewers only on
/// viewer endpoints.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class AuthorizationMatrixTests : IAsyncLifetime
{
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

    public static IEnumerable<ApiEndpoint> Endpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => new ApiEndpoint(m, e)));

    [Fact]
    public void The_matrix_sees_the_endpoints_that_exist()
    {
        var names = Endpoints(_factory.Services).Select(e => e.ToString()).ToList();
        Assert.Contains("POST /api/v1/auth/login", names);
        Assert.Contains("GET /api/v1/health", names);
        Assert.Contains("PUT /api/v1/config/users/{id:guid}/role", names);
        Assert.True(names.Count >= 11, string.Join(", ", names));
    }

    [Fact]
    public void Only_login_is_anonymous_in_the_api_and_the_enrollment_downloads_live_on_their_own_port()
    {
        var anonymous = Endpoints(_factory.Services).Where(e => e.AllowsAnonymous).Select(e => e.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["POST /api/v1/auth/login"], anonymous);

        // The enrollment bundle URLs are capabilities (the 24-byte token is the credential, limited
        // downloads, 5 minutes, rate limited: Swarm/Enrollment tests), anonymous on purpose, and routed
        // only on the HTTPS enrollment endpoint, never the dashboard's.
        var downloads = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(Decnet.Core.Swarm.Enrollment.EnrollmentService.DownloadRoute + "/", StringComparison.Ordinal) == true)
            .ToList();
        Assert.Equal(["/enroll/{token}.sh", "/enroll/{token}.tgz"], downloads.Select(e => e.RoutePattern.RawText).Order(StringComparer.Ordinal));
        Assert.All(downloads, e =>
        {
            Assert.NotNull(e.Metadata.GetMetadata<IAllowAnonymous>());
            Assert.Equal(Decnet.Web.Swarm.Controller.SwarmPort.Enrollment, e.Metadata.GetMetadata<Decnet.Web.Swarm.Controller.SwarmEndpointMetadata>()?.Port);
        });
    }

    [Fact]
    public async Task Anonymous_callers_get_401_everywhere_but_login()
    {
        using var client = _factory.CreateClient();
        foreach (var endpoint in Endpoints(_factory.Services))
        {
            var status = await SendAsync(client, endpoint);
            if (endpoint.AllowsAnonymous)
            {
                Assert.NotEqual(HttpStatusCode.Unauthorized, status);
            }
            else
            {
                Assert.True(status == HttpStatusCode.Unauthorized, $"{endpoint} gave {(int)status} to an anonymous caller");
            }
        }
    }

    [Fact]
    public async Task A_user_who_must_change_the_password_gets_403_everywhere_but_change_password_and_logout()
    {
        using var client = _factory.CreateClient(_mustChangeToken);
        foreach (var endpoint in Endpoints(_factory.Services).Where(e => !e.AllowsAnonymous && e.Policy != Policies.SignedIn))
        {
            var status = await SendAsync(client, endpoint);
            Assert.True(status == HttpStatusCode.Forbidden, $"{endpoint} gave {(int)status} to a must-change user");
        }
    }

    [Fact]
    public async Task Viewers_get_403_on_admin_endpoints_and_pass_viewer_endpoints()
    {
        using var client = _factory.CreateClient(_viewerToken);
        foreach (var endpoint in Endpoints(_factory.Services).Where(e => !e.AllowsAnonymous && e.Policy != Policies.SignedIn))
        {
            var status = await SendAsync(client, endpoint);
            if (endpoint.Policy == Policies.Admin)
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
    public async Task Admins_pass_authorization_on_every_endpoint()
    {
        foreach (var endpoint in Endpoints(_factory.Services).Where(e => !e.AllowsAnonymous))
        {
            // A fresh admin per call: logout and password change revoke the caller's tokens.
            var (_, token) = await _factory.CreateActiveUserAsync("adm" + Guid.NewGuid().ToString("N")[..8], UserRole.Admin);
            using var client = _factory.CreateClient(token);
            var status = await SendAsync(client, endpoint);
            Assert.True(status is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"{endpoint} refused an admin with {(int)status}");
        }
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, ApiEndpoint endpoint)
    {
        var path = RouteParameter().Replace(endpoint.Route, m => m.Value.Contains(":guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString() : "sample");
        using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), path);
        if (endpoint.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();

    public sealed record ApiEndpoint(string Method, RouteEndpoint Endpoint)
    {
        public string Route => Endpoint.RoutePattern.RawText!;

        public bool AllowsAnonymous => Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;

        public string? Policy => Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault()?.Policy ?? Policies.Viewer;

        public override string ToString() => $"{Method} {Route}";
    }
}
