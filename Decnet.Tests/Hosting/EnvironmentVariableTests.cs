using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Hosting;

/// <summary>
/// One master started with <c>dotnet run --project Decnet.Web -- --Decnet:Storage:DatabaseFile=...</c>
/// (appsettings.json present, as always under dotnet run, and a command line: the case that used to
/// let appsettings.json override the variables), with every DECNET_* variable of the README set, and
/// a plain <c>Decnet__Storage__DataDirectory</c> that DECNET_DATA_DIR must beat.
/// </summary>
public sealed class ConfiguredMaster : IAsyncLifetime
{
    public const string AdminUser = "gatekeeper";
    public const string AdminPassword = "seeded-from-the-environment";
    public const string CommandLineDatabase = "from-command-line.db";
    public static readonly string JwtSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
    private readonly TempDirectory _root = new("decnet-env");
    private TcpListener _otlp = null!;
    private Task<byte[]> _otlpFirstBytes = null!;

    public MasterProcess Process { get; private set; } = null!;
    public string Root => _root.Path;
    public string DataDirectory => Path.Combine(_root.Path, "data");
    public string LogDirectory => Path.Combine(_root.Path, "logs");
    public string PlainDataDirectory => Path.Combine(_root.Path, "plain-data");

    /// <summary>The first bytes the OTLP exporter sent to DECNET_OTEL_ENDPOINT.</summary>
    public Task<byte[]> OtlpFirstBytes => _otlpFirstBytes;

    public async ValueTask InitializeAsync()
    {
        var (host, port) = MasterProcess.FreeAddress();
        _otlp = new TcpListener(IPAddress.Parse(host), 0);
        _otlp.Start();
        _otlpFirstBytes = ReadFirstBytesAsync(_otlp);

        var environment = MasterProcess.Environment(host, port, _root.Path);
        environment["DECNET_ADMIN_USER"] = AdminUser;
        environment["DECNET_ADMIN_PASSWORD"] = AdminPassword;
        environment["DECNET_JWT_SECRET"] = JwtSecret;
        environment["DECNET_OTEL_ENDPOINT"] = $"http://{host}:{((IPEndPoint)_otlp.LocalEndpoint).Port}";
        environment["DECNET_DB_PATH"] = "from-environment.db";
        environment["Decnet__Storage__DataDirectory"] = PlainDataDirectory;
        Process = await MasterProcess.DotnetRunAsync(environment, $"--Decnet:Storage:DatabaseFile={CommandLineDatabase}");
    }

    private static async Task<byte[]> ReadFirstBytesAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var buffer = new byte[64];
        var read = 0;
        var stream = client.GetStream();
        while (read < 24)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read));
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        return buffer[..read];
    }

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        _otlp.Stop();
        _root.Dispose();
    }
}

/// <summary>Each DECNET_* variable of the README, honoured by a real process with appsettings.json present.</summary>
[Collection(MasterProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class EnvironmentVariableTests(ConfiguredMaster master) : IClassFixture<ConfiguredMaster>
{
    [Fact]
    public void The_content_root_has_the_appsettings_json_whose_values_the_variables_replace()
    {
        var appsettings = Path.Combine(MasterProcess.RepositoryRoot, "Decnet.Web", "appsettings.json");
        using var json = JsonDocument.Parse(File.ReadAllText(appsettings));
        var web = json.RootElement.GetProperty("Decnet").GetProperty("Web");
        Assert.Equal(8080, web.GetProperty("Port").GetInt32());
        Assert.Contains(master.Process.Lines, line => line.Contains("Content root path: " + Path.Combine(MasterProcess.RepositoryRoot, "Decnet.Web"), StringComparison.Ordinal));
    }

    [Fact]
    public void DECNET_WEB_HOST_and_DECNET_WEB_PORT_place_the_dashboard_and_nothing_warns_about_overridden_addresses()
    {
        // The master answered /alive on exactly this address before the tests began.
        Assert.Contains(master.Process.Lines, line => line.EndsWith("Now listening on: " + master.Process.BaseUrl, StringComparison.Ordinal));
        Assert.DoesNotContain(master.Process.Lines, line => line.Contains("http://127.0.0.1:8080", StringComparison.Ordinal));
        Assert.DoesNotContain(master.Process.Lines, line => line.Contains("Overriding address", StringComparison.Ordinal));
    }

    [Fact]
    public void DECNET_DATA_DIR_beats_a_plain_environment_variable_and_the_command_line_beats_DECNET_DB_PATH()
    {
        Assert.True(File.Exists(Path.Combine(master.DataDirectory, ConfiguredMaster.CommandLineDatabase)), "database not where the command line put it");
        Assert.False(File.Exists(Path.Combine(master.DataDirectory, "from-environment.db")));
        Assert.True(Directory.Exists(Path.Combine(master.DataDirectory, "keys")), "cookie keys not in DECNET_DATA_DIR");
        Assert.False(Directory.Exists(master.PlainDataDirectory));
        // The start says where everything goes.
        Assert.Contains(master.Process.Lines, line => line.Contains(
            $"Data folder {master.DataDirectory} (database {Path.Combine(master.DataDirectory, ConfiguredMaster.CommandLineDatabase)}); process logs in {master.LogDirectory}",
            StringComparison.Ordinal));
    }

    [Fact]
    public void DECNET_LOG_DIRECTORY_receives_the_process_log()
    {
        var log = Assert.Single(Directory.GetFiles(master.LogDirectory, "decnet-web-*.log"));
        Assert.Contains("Now listening on: " + master.Process.BaseUrl, File.ReadAllText(log), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DECNET_ADMIN_USER_and_DECNET_ADMIN_PASSWORD_seed_the_administrator_and_DECNET_JWT_SECRET_signs_its_token()
    {
        using var client = new HttpClient { BaseAddress = new Uri(master.Process.BaseUrl) };
        using var refused = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "admin" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = ConfiguredMaster.AdminUser, password = ConfiguredMaster.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("must_change_password").GetBoolean());
        var token = body.RootElement.GetProperty("access_token").GetString()!;

        // HS256 over header.payload with the configured secret's bytes, and no generated key file.
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(ConfiguredMaster.JwtSecret), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        Assert.Equal(Convert.ToBase64String(expected).TrimEnd('=').Replace('+', '-').Replace('/', '_'), parts[2]);
        Assert.False(File.Exists(Path.Combine(master.DataDirectory, "jwt-signing.key")));
    }

    [Fact]
    public async Task DECNET_OTEL_ENDPOINT_receives_the_OTLP_export()
    {
        using var client = new HttpClient();
        for (var i = 0; i < 5; i++)
        {
            // Requests make spans; the batch exporter sends them within seconds.
            (await client.GetAsync(master.Process.BaseUrl + "/alive")).Dispose();
        }
        var first = await master.OtlpFirstBytes.WaitAsync(TimeSpan.FromSeconds(60));
        // OTLP over gRPC: the HTTP/2 connection preface (cleartext, prior knowledge).
        Assert.StartsWith("PRI * HTTP/2.0", Encoding.ASCII.GetString(first), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DECNET_TLS_CERT_and_DECNET_TLS_PASSWORD_serve_https_and_DECNET_KNOWN_PROXIES_decides_whose_forwarded_scheme_counts()
    {
        var address = ListeningMaster.RandomLoopback();
        var proxy = ListeningMaster.RandomLoopback();
        using var certificates = new TestCertificates(address);
        using var root = new TempDirectory("decnet-env-tls");
        var port = MasterProcess.FreePort(address);
        var environment = MasterProcess.Environment(address.ToString(), port, root.Path);
        environment["DECNET_TLS_CERT"] = certificates.Pfx;
        environment["DECNET_TLS_PASSWORD"] = TestCertificates.PfxPassword;
        environment["DECNET_KNOWN_PROXIES"] = proxy.ToString();
        await using var tls = MasterProcess.Start(environment);
        await tls.WaitForListeningAsync(address, port, TimeSpan.FromMinutes(3));
        var origin = new Uri($"https://{address}:{port}");

        // The PFX opened with its password is what the dashboard presents (pinned: nothing else passes).
        using var stranger = ListeningMaster.ClientFor(origin, ListeningMaster.RandomLoopback(), (_, presented, _, _) => certificates.IsServer(presented));
        using var viaProxy = ListeningMaster.ClientFor(origin, proxy, (_, presented, _, _) => certificates.IsServer(presented));

        // A proxy that says the client spoke plain HTTP is believed only when it is the listed one.
        var direct = await LoginPageAsync(stranger);
        Assert.Contains("; secure", direct.Antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.True(direct.Hsts, "no Strict-Transport-Security over HTTPS");
        var forwarded = await LoginPageAsync(viaProxy);
        Assert.DoesNotContain("; secure", forwarded.Antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.False(forwarded.Hsts, "the known proxy's X-Forwarded-Proto was ignored");
    }

    private static async Task<(string Antiforgery, bool Hsts)> LoginPageAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        request.Headers.Add("X-Forwarded-Proto", "http");
        request.Headers.Add("X-Forwarded-For", "198.51.100.7");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var antiforgery = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        return (antiforgery, response.Headers.Contains("Strict-Transport-Security"));
    }
}

/// <summary>The README's variable table and the mapping the master applies are the same list.</summary>
public sealed partial class DocumentedVariablesTests
{
    [Fact]
    public void Every_variable_in_the_README_table_is_mapped_and_every_mapped_variable_is_documented()
    {
        var readme = File.ReadAllLines(Path.Combine(MasterProcess.RepositoryRoot, "README.md"));
        var documented = readme.Where(line => line.StartsWith("| `DECNET_", StringComparison.Ordinal))
            .SelectMany(line => Variable().Matches(line.Split('|')[1]).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(documented.Order(StringComparer.Ordinal), Decnet.Web.Configuration.DecnetEnvironment.Variables.Keys.Order(StringComparer.Ordinal));
    }

    [System.Text.RegularExpressions.GeneratedRegex("DECNET_[A-Z_]+")]
    private static partial System.Text.RegularExpressions.Regex Variable();
}
