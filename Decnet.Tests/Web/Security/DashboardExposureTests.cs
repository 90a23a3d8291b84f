using System.Net;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Tests.Web.Security;

/// <summary>
/// How the dashboard may be exposed: never beyond loopback with the default admin password, HTTPS with
/// the operator's certificate (PEM or PFX), and cookies that are Secure whenever the request is HTTPS.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DashboardExposureTests
{
    private static readonly string[] Embedded = ["--Decnet:Runtime:Kind=embedded", "--Decnet:Swarm:Enabled=false"];

    [Fact]
    public async Task The_master_bound_beyond_loopback_with_the_default_admin_password_refuses_to_start_and_says_why()
    {
        using var data = new TempDirectory("decnet-exposed");
        var port = MasterProcess.FreePort(IPAddress.Any);
        // No DECNET_ADMIN_PASSWORD: the seed keeps admin/admin.
        using var master = MasterProcess.Start(Place("0.0.0.0", port, data.Path), Embedded);

        var exitCode = await master.WaitForExitAsync(TimeSpan.FromMinutes(3));

        Assert.NotEqual(0, exitCode);
        var output = master.Output;
        Assert.Contains("Refusing to start", output, StringComparison.Ordinal);
        Assert.Contains($"0.0.0.0:{port}", output, StringComparison.Ordinal);
        Assert.Contains("still has the default password", output, StringComparison.Ordinal);
        Assert.Contains("DECNET_ADMIN_PASSWORD", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_password_is_fine_on_loopback_and_a_strong_seed_password_may_be_exposed()
    {
        var defaults = new Dictionary<string, string?> { ["Decnet:Users:AdminPassword"] = UserOptions.DefaultAdminPassword };
        await using (var loopback = ListeningMaster.Start(defaults))
        {
            using var client = loopback.Client();
            Assert.Equal(HttpStatusCode.OK, (await ListeningMaster.PostLoginAsync(client, "admin", UserOptions.DefaultAdminPassword)).StatusCode);
        }

        await using var exposedDefault = new DecnetWebFactory(new Dictionary<string, string?>(defaults) { ["urls"] = "http://0.0.0.0:0" });
        exposedDefault.UseKestrel();
        var refused = Assert.ThrowsAny<Exception>(exposedDefault.StartServer);
        Assert.Contains("still has the default password", Flatten(refused), StringComparison.Ordinal);

        // The seed with an operator-chosen password (must still be changed at first sign-in) may listen anywhere.
        await using var exposed = new DecnetWebFactory(new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:0" });
        exposed.UseKestrel();
        exposed.StartServer();
    }

    [Fact]
    public async Task The_swarm_ports_beyond_loopback_are_not_the_dashboard_for_the_default_password_check()
    {
        // Workers must reach the controller and the enrollment downloads from the LAN; the dashboard stays local.
        await using var master = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Users:AdminPassword"] = UserOptions.DefaultAdminPassword,
            ["urls"] = "http://127.0.0.1:0",
            ["Decnet:Swarm:Enabled"] = "true",
            ["Decnet:Swarm:ControllerUrl"] = "https://0.0.0.0:0",
            ["Decnet:Swarm:EnrollmentUrl"] = "https://0.0.0.0:0",
            ["Decnet:Swarm:SyslogUrl"] = "127.0.0.1:0",
        });
        master.UseKestrel();

        master.StartServer();

        var listener = master.Services.GetRequiredService<Decnet.Web.Swarm.Controller.SwarmControllerListener>();
        Assert.Equal(System.Net.IPAddress.Any, listener.EnrollmentEndPoint!.Address);
        Assert.True(master.Services.GetRequiredService<Decnet.Web.Exposure.DefaultPasswordGuard>().IsOpen);
    }

    [Fact]
    public async Task A_pem_certificate_from_DECNET_variables_serves_the_dashboard_over_https_to_curl_with_secure_cookies()
    {
        var address = ListeningMaster.RandomLoopback();
        using var certificates = new TestCertificates(address);
        using var data = new TempDirectory("decnet-https");
        var port = MasterProcess.FreePort(address);
        var environment = Place(address.ToString(), port, data.Path);
        environment["DECNET_ADMIN_PASSWORD"] = CoreTestBed.AdminPassword;
        environment["DECNET_TLS_CERT"] = certificates.CertificatePem;
        environment["DECNET_TLS_KEY"] = certificates.KeyPem;
        using var master = MasterProcess.Start(environment, [.. Embedded, "--Decnet:Users:BcryptWorkFactor=4"]);
        await master.WaitForListeningAsync(address, port, TimeSpan.FromMinutes(3));
        var origin = $"https://{address}:{port}";

        // curl checks the chain against the operator's CA and the address against the certificate.
        var (exitCode, headers) = await Clients.RunAsync("curl", ["-sS", "--http1.1", "--cacert", certificates.AuthorityPem, "-D", "-", "-o", "/dev/null", origin + "/account/login"]);
        Assert.True(exitCode == 0, headers);
        Assert.StartsWith("HTTP/1.1 200", headers, StringComparison.Ordinal);
        var antiforgery = Assert.Single(headers.Split('\n'), l => l.StartsWith("set-cookie: .AspNetCore.Antiforgery", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("; secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("strict-transport-security: max-age=", headers, StringComparison.OrdinalIgnoreCase);
        // Without the CA, curl refuses the certificate: it really is the configured one being served.
        var (untrusted, _) = await Clients.RunAsync("curl", ["-sS", "-o", "/dev/null", origin + "/account/login"]);
        Assert.Equal(60, untrusted);

        using var client = PinnedClient(origin, certificates);
        var session = await SignInThroughTheFormAsync(client);
        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await ListeningMaster.PostLoginAsync(client, "admin", CoreTestBed.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task A_pfx_certificate_from_options_serves_https_and_the_session_cookie_is_secure()
    {
        var address = ListeningMaster.RandomLoopback();
        using var certificates = new TestCertificates(address);
        await using var master = ListeningMaster.Start(new Dictionary<string, string?>
        {
            ["urls"] = $"https://{address}:0",
            ["Decnet:Web:Tls:CertificatePath"] = certificates.Pfx,
            ["Decnet:Web:Tls:Password"] = TestCertificates.PfxPassword,
        }, scheme: "https");

        using var client = master.Client(certificate: (_, presented, _, _) => certificates.IsServer(presented), cookies: true);
        var session = await SignInThroughTheFormAsync(client);

        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Over_plain_http_cookies_are_not_secure_but_behind_a_known_https_proxy_they_are()
    {
        var proxy = ListeningMaster.RandomLoopback();
        await using var master = ListeningMaster.Start(new Dictionary<string, string?> { ["Decnet:Web:ForwardedHeaders:KnownProxies"] = proxy.ToString() });

        using var direct = master.Client(cookies: true);
        var session = await SignInThroughTheFormAsync(direct);
        Assert.DoesNotContain("; secure", session, StringComparison.OrdinalIgnoreCase);

        using var viaProxy = master.Client(proxy);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "203.0.113.20");
        var page = await viaProxy.SendAsync(request);
        var antiforgery = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        Assert.Contains("; secure", antiforgery, StringComparison.OrdinalIgnoreCase);

        // The same header from an address that is not a known proxy changes nothing.
        using var stranger = master.Client(ListeningMaster.RandomLoopback());
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        spoofed.Headers.Add("X-Forwarded-Proto", "https");
        var plain = await stranger.SendAsync(spoofed);
        Assert.DoesNotContain("; secure", Assert.Single(plain.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_missing_or_unusable_certificate_stops_the_start_with_every_problem_listed()
    {
        await using var missing = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Web:Tls:CertificatePath"] = "/nonexistent/dashboard.pem",
            ["Decnet:Web:Tls:KeyPath"] = "/nonexistent/dashboard.key",
        });
        var messages = Failures(Assert.ThrowsAny<Exception>(() => missing.CreateClient()));
        Assert.Contains(messages, m => m.Contains("'/nonexistent/dashboard.pem' does not exist", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("'/nonexistent/dashboard.key' does not exist", StringComparison.Ordinal));

        var address = ListeningMaster.RandomLoopback();
        using var certificates = new TestCertificates(address);
        await using var keyless = new DecnetWebFactory(new Dictionary<string, string?> { ["Decnet:Web:Tls:CertificatePath"] = certificates.CertificatePem });
        Assert.Contains(Failures(Assert.ThrowsAny<Exception>(() => keyless.CreateClient())), m => m.Contains("cannot be used", StringComparison.Ordinal));

        await using var orphanKey = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Web:Tls:KeyPath"] = certificates.KeyPem,
            ["Decnet:Web:ForwardedHeaders:KnownProxies"] = "10.0.0.1, not-an-address",
        });
        var both = Failures(Assert.ThrowsAny<Exception>(() => orphanKey.CreateClient()));
        Assert.Contains(both, m => m.Contains("CertificatePath (DECNET_TLS_CERT) is not", StringComparison.Ordinal));
        Assert.Contains(both, m => m.Contains("'not-an-address' is neither", StringComparison.Ordinal));
    }

    /// <summary>The dashboard's host and port (its scheme follows the certificate setting) and a private data folder.</summary>
    private static Dictionary<string, string> Place(string host, int port, string data) => new()
    {
        ["DECNET_WEB_HOST"] = host,
        ["DECNET_WEB_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DECNET_DATA_DIR"] = data,
        ["DECNET_LOG_DIRECTORY"] = Path.Combine(data, "logs"),
    };

    private static HttpClient PinnedClient(string origin, TestCertificates certificates)
    {
        var handler = new SocketsHttpHandler { UseCookies = true, AllowAutoRedirect = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => certificates.IsServer(presented);
        return new HttpClient(handler) { BaseAddress = new Uri(origin) };
    }

    /// <summary>Signs the seeded admin in through the real login form; returns the session cookie header.</summary>
    private static async Task<string> SignInThroughTheFormAsync(HttpClient client)
    {
        var token = ListeningMaster.AntiforgeryToken(await client.GetStringAsync("/account/login"));
        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Username"] = "admin",
            ["Input.Password"] = CoreTestBed.AdminPassword,
        }));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("decnet.session=", StringComparison.Ordinal));
    }

    private static string Flatten(Exception error) => error is AggregateException aggregate
        ? string.Join("\n", aggregate.InnerExceptions.Select(Flatten))
        : error.Message + (error.InnerException is null ? "" : "\n" + Flatten(error.InnerException));

    private static List<string> Failures(Exception error)
    {
        var found = new List<string>();
        for (var pending = new Stack<Exception>([error]); pending.Count > 0;)
        {
            var current = pending.Pop();
            if (current is OptionsValidationException validation)
            {
                found.AddRange(validation.Failures);
            }
            if (current is AggregateException aggregate)
            {
                aggregate.InnerExceptions.ToList().ForEach(pending.Push);
            }
            else if (current.InnerException is not null)
            {
                pending.Push(current.InnerException);
            }
        }
        return found;
    }
}
