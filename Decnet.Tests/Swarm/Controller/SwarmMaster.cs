using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// The whole master on real Kestrel: the dashboard on a loopback port and the swarm controller on
/// another, with mutual TLS. Workers are HttpClients presenting certificates issued by the master's CA.
/// </summary>
public sealed class SwarmMaster : IAsyncDisposable
{
    private readonly DecnetWebFactory _factory;
    private readonly WebApplicationFactory<Program> _host;

    private SwarmMaster(DecnetWebFactory factory, WebApplicationFactory<Program> host)
    {
        _factory = factory;
        _host = host;
        var endPoint = Services.GetRequiredService<SwarmControllerListener>().BoundEndPoint
            ?? throw new InvalidOperationException("The controller endpoint is not bound.");
        ControllerUri = new Uri($"https://{Reachable(endPoint)}:{endPoint.Port}");
        var enrollment = Services.GetRequiredService<SwarmControllerListener>().EnrollmentEndPoint
            ?? throw new InvalidOperationException("The enrollment endpoint is not bound.");
        EnrollmentUri = new Uri($"https://{Reachable(enrollment)}:{enrollment.Port}");
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        DashboardUri = new Uri(addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>Where a client on this machine reaches an endpoint: its own address, or loopback for "any".</summary>
    private static string Reachable(System.Net.IPEndPoint endPoint) =>
        endPoint.Address.Equals(System.Net.IPAddress.Any) || endPoint.Address.Equals(System.Net.IPAddress.IPv6Any) ? "127.0.0.1" : endPoint.Address.ToString();
    public Uri ControllerUri { get; }
    public Uri DashboardUri { get; }

    /// <summary>Where workers download enrollment bundles (server TLS with the master identity).</summary>
    public Uri EnrollmentUri { get; }
    public DecnetWebFactory Factory => _factory;
    public SwarmOverview Overview => Services.GetRequiredService<SwarmOverview>();
    public SwarmStore Store => Services.GetRequiredService<SwarmStore>();
    public SwarmMasterCredentials Credentials => Services.GetRequiredService<SwarmMasterCredentials>();
    public EnrollmentService Enrollment => Services.GetRequiredService<EnrollmentService>();

    public static Task<SwarmMaster> StartAsync(TimeProvider? time = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Decnet:Swarm:Enabled"] = "true",
            ["Decnet:Swarm:SyslogUrl"] = "127.0.0.1:0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var factory = new DecnetWebFactory(values);
        var host = factory.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
        {
            if (time is not null)
            {
                services.AddSingleton(time);
            }
        }));
        host.UseKestrel();
        host.StartServer();
        return Task.FromResult(new SwarmMaster(factory, host));
    }

    /// <summary>A dashboard API client of a new user (password already changed) of this master, signed in through the real login.</summary>
    public async Task<HttpClient> SignedInClientAsync(string username, Decnet.Core.Users.UserRole role)
    {
        var users = Services.GetRequiredService<Decnet.Core.Users.UserDirectory>();
        var password = username + "-password-1";
        var created = await users.CreateAsync("test", username, password + "-temp", role, CancellationToken.None);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        Assert.True((await users.ChangePasswordAsync(created.User!.Id, password + "-temp", password, CancellationToken.None)).Succeeded);
        var client = new HttpClient { BaseAddress = DashboardUri };
        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        Assert.Equal(System.Net.HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Enrolls a worker the CLI way and returns its identity.</summary>
    public async Task<EnrolledWorker> EnrollAsync(string name) =>
        await Enrollment.EnrollAsync(new WorkerEnrollmentRequest(name, "127.0.0.1"), CancellationToken.None);

    /// <summary>A worker's client: its own certificate, the master pinned by fingerprint (the production handler).</summary>
    public HttpClient WorkerClient(IssuedIdentity identity) =>
        new(PinnedTls.CreateHandler(identity.ToCertificate(), Credentials.Trust, Credentials.MasterFingerprint, TimeSpan.FromSeconds(10))) { BaseAddress = ControllerUri };

    /// <summary>An anonymous client of the enrollment endpoint that, like the bootstrap command, accepts only the master's key.</summary>
    public HttpClient EnrollmentClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        SslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = SwarmCertificateAuthority.MasterCommonName,
            RemoteCertificateValidationCallback = (_, server, _, _) => PinnedTls.IsExpectedServer(server, Credentials.Trust, Credentials.MasterFingerprint),
        },
    }) { BaseAddress = EnrollmentUri };

    /// <summary>A client presenting an arbitrary certificate, or none, while still pinning the master.</summary>
    public HttpClient RawClient(X509Certificate2? certificate)
    {
        var ssl = new SslClientAuthenticationOptions
        {
            TargetHost = SwarmCertificateAuthority.MasterCommonName,
            RemoteCertificateValidationCallback = (_, server, _, _) => PinnedTls.IsExpectedServer(server, Credentials.Trust, Credentials.MasterFingerprint),
        };
        if (certificate is not null)
        {
            ssl.ClientCertificates = [certificate];
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }
        return new HttpClient(new SocketsHttpHandler { UseProxy = false, SslOptions = ssl }) { BaseAddress = ControllerUri };
    }

    public static X509Certificate2 SelfSignedClientCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=DECNET", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(SwarmTrust.ClientAuthOid), new Oid(SwarmTrust.ServerAuthOid)], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    public static HeartbeatRequest Heartbeat(Guid hostId, params (string Name, string Ip, bool Healthy)[] deckies) => new(
        hostId,
        "test",
        new AgentStatus(deckies.Length > 0, "embedded", [.. deckies.Select(d => new AgentDeckyStatus(
            d.Name,
            d.Healthy ? DeckyShardState.Running : DeckyShardState.Degraded,
            new DeckyConfig { Name = d.Name, Ip = d.Ip, Services = ["ssh", "http"], Hostname = d.Name + "-host" },
            [new AgentServiceStatus("ssh", "running", null, null), new AgentServiceStatus("http", d.Healthy ? "running" : "failed", d.Healthy ? null : "bind failed", null)]))]));

    /// <summary>Writes a placement as a deploy would before calling the workers: each decky belongs to its host (pending).</summary>
    public async Task PlaceAsync(params (Guid Host, string Name, string Ip)[] deckies) =>
        await Store.PlaceAsync([.. deckies.Select(d => new DeckyConfig { Name = d.Name, Ip = d.Ip, Services = ["ssh", "http"], Hostname = d.Name + "-host", HostUuid = d.Host })], CancellationToken.None);

    public static async Task<HttpResponseMessage> SendHeartbeatAsync(HttpClient client, HeartbeatRequest heartbeat) =>
        await client.PostAsync("/swarm/heartbeat", JsonContent.Create(heartbeat, options: DeckyConfigJson.Options));

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _factory.DisposeAsync();
    }
}
