using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Tests.Honeypots.Http;

public sealed class HttpHoneypotTests
{
    private static string Url(TestDecky decky, string path, string scheme = "http") => $"{scheme}://{decky.Address}{path}";

    private static Task<RealClient.Result> Curl(params string[] args) => RealClient.RunAsync("curl", ["-sS", "--max-time", "10", .. args]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Without_a_fake_app_every_path_gets_an_apache_403_and_the_request_is_logged()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory());

        var result = await Curl("-i", "-A", "sqlmap/1.7", "-X", "PUT", "--data-binary", "payload=1", Url(decky, "/admin/config.php?debug=1"));
        Assert.StartsWith("HTTP/1.1 403 Forbidden", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Server: Apache/2.4.62 (Debian)", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/html; charset=iso-8859-1", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("You don't have permission to access this resource.", result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"Server at {decky.Address} Port 80</address>", result.StdOut, StringComparison.Ordinal);

        var request = await decky.Sink.WaitForAsync("request");
        Assert.Equal("PUT", request.Field("method"));
        Assert.Equal("/admin/config.php", request.Field("path"));
        Assert.Equal("debug=1", request.Field("query"));
        Assert.Equal("sqlmap/1.7", request.Field("user_agent"));
        Assert.Equal("payload=1", request.Field("body"));
        Assert.Contains("\"User-Agent\":\"sqlmap/1.7\"", request.Field("headers"), StringComparison.Ordinal);
        Assert.NotNull(request.Field("src_ip"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Keep_alive_serves_several_requests_on_one_connection()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = "nginx_default" });

        var result = await Curl(Url(decky, "/"), Url(decky, "/missing"), Url(decky, "/"));
        Assert.Equal(2, CountOf(result.StdOut, "Welcome to nginx!</h1>"));
        Assert.Contains("<center>nginx/1.22.1</center>", result.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("disconnect");
        Assert.Equal(3, decky.Sink.OfType("request").Count);
        Assert.Single(decky.Sink.OfType("connect"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_wordpress_login_post_captures_the_credentials()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = "wordpress" });

        var form = await Curl(Url(decky, "/wp-login.php"));
        Assert.Contains("name=\"log\"", form.StdOut, StringComparison.Ordinal);
        Assert.Contains("action=\"/wp-login.php\"", form.StdOut, StringComparison.Ordinal);
        var post = await Curl("-d", "log=admin&pwd=Summer2024%21&wp-submit=Log+In", Url(decky, "/wp-login.php"));
        Assert.Contains("The password you entered for the username <strong>admin</strong> is incorrect.", post.StdOut, StringComparison.Ordinal);

        var login = await decky.Sink.WaitForAsync("login_attempt");
        Assert.Equal("admin", login.Field("username"));
        Assert.Equal("Summer2024!", login.Field("password"));
        Assert.Equal("/wp-login.php", login.Field("path"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_wordpress_xmlrpc_login_captures_the_credentials_and_gets_a_fault()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = "wordpress" });
        const string call = "<?xml version=\"1.0\"?><methodCall><methodName>wp.getUsersBlogs</methodName><params>"
            + "<param><value><string>editor</string></value></param><param><value>Spring#2026</value></param></params></methodCall>";
        var result = await Curl("-H", "Content-Type: text/xml", "--data-binary", call, Url(decky, "/xmlrpc.php"));
        Assert.Contains("Incorrect username or password.", result.StdOut, StringComparison.Ordinal);

        var login = await decky.Sink.WaitForAsync("login_attempt");
        Assert.Equal(("editor", "Spring#2026"), (login.Field("username"), login.Field("password")));
        Assert.Equal("xmlrpc:wp.getUsersBlogs", login.Field("source"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_phpmyadmin_login_and_basic_auth_capture_credentials()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = "phpmyadmin" });

        var post = await Curl("-d", "pma_username=root&pma_password=toor&server=1", Url(decky, "/index.php"));
        Assert.Contains("Access denied for user 'root'", post.StdOut, StringComparison.Ordinal);
        await Curl("-u", "backup:b4ckup!", Url(decky, "/server-status"));

        var form = await decky.Sink.WaitForAsync("login_attempt", e => e.Field("source") == "form");
        Assert.Equal(("root", "toor"), (form.Field("username"), form.Field("password")));
        var basic = await decky.Sink.WaitForAsync("login_attempt", e => e.Field("source") == "basic_auth");
        Assert.Equal(("backup", "b4ckup!"), (basic.Field("username"), basic.Field("password")));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Persona_server_header_status_extra_headers_and_custom_body_are_served()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string>
        {
            ["server_header"] = "Jetty(9.4.51)",
            ["response_code"] = "200",
            ["custom_body"] = "<h1>Jenkins</h1>",
            ["extra_headers"] = "{\"X-Jenkins\": \"2.401.3\", \"Bad\\r\\nHeader\": \"x\"}",
        });
        var result = await Curl("-i", Url(decky, "/login"));
        Assert.StartsWith("HTTP/1.1 200 OK", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Server: Jetty(9.4.51)", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("X-Jenkins: 2.401.3", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Header: x", result.StdOut, StringComparison.Ordinal);
        Assert.EndsWith("<h1>Jenkins</h1>", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task The_files_persona_serves_static_files_without_escaping_its_folder()
    {
        await using var decky = TestDecky.Create();
        var site = Directory.CreateDirectory(Path.Combine(decky.Root, "site")).FullName;
        await File.WriteAllTextAsync(Path.Combine(site, "index.html"), "<h1>Intranet</h1>");
        await File.WriteAllTextAsync(Path.Combine(site, ".htpasswd"), "admin:secret");
        await File.WriteAllTextAsync(Path.Combine(decky.Root, "outside.txt"), "outside");
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["files"] = site });

        Assert.Equal("<h1>Intranet</h1>", (await Curl(Url(decky, "/"))).StdOut);
        Assert.Contains("403 Forbidden", (await Curl(Url(decky, "/.htpasswd"))).StdOut, StringComparison.Ordinal);
        Assert.Contains("403 Forbidden", (await Curl("--path-as-is", Url(decky, "/../outside.txt"))).StdOut, StringComparison.Ordinal);
        Assert.Contains("403 Forbidden", (await Curl("--path-as-is", Url(decky, "/%2e%2e/outside.txt"))).StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("apache_default", "Apache2 Debian Default Page: It works")]
    [InlineData("iis_default", "<title>IIS Windows Server</title>")]
    public async Task Fake_app_presets_serve_their_default_page(string app, string marker)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory(), new Dictionary<string, string> { ["fake_app"] = app });
        var result = await Curl(Url(decky, "/"));
        Assert.Contains(marker, result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Https_presents_a_persistent_self_signed_certificate_for_the_tls_cn()
    {
        await using var decky = TestDecky.Create();
        var persona = new Dictionary<string, string> { ["tls_cn"] = "intranet.corp.example", ["fake_app"] = "apache_default" };
        await decky.StartAsync(new HttpsHoneypotFactory(), persona);

        var result = await Curl("-k", "-v", Url(decky, "/", "https"));
        Assert.Contains("It works", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("CN=intranet.corp.example", result.StdErr, StringComparison.Ordinal);
        var tls = await decky.Sink.WaitForAsync("tls_session");
        Assert.StartsWith("Tls1", tls.Field("protocol"), StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("request");

        // The same state folder yields the same certificate after a restart.
        var first = File.ReadAllText(Path.Combine(decky.StateDirectory, "https", "tls-cert.pem"));
        var again = new HttpsHoneypotFactory().Create(decky.Context(persona));
        Assert.Equal(first, ((HttpHoneypot)again).Certificate!.ExportCertificatePem());
        using var parsed = X509Certificate2.CreateFromPem(first);
        Assert.Equal(2048, parsed.GetRSAPublicKey()!.KeySize);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Https_serves_an_operator_provided_pem_pair()
    {
        await using var decky = TestDecky.Create();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=provided.example", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await decky.StartAsync(new HttpsHoneypotFactory(), new Dictionary<string, string>
        {
            ["tls_cert"] = cert.ExportCertificatePem(),
            ["tls_key"] = key.ExportPkcs8PrivateKeyPem(),
        });
        var result = await Curl("-k", "-v", Url(decky, "/", "https"));
        Assert.Contains("CN=provided.example", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("403 Forbidden", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_gets_a_400_and_never_breaks_the_listener()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new HttpHoneypotFactory());
        var endPoint = hosted.EndPointOf("http", 80);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(endPoint);
            await client.GetStream().WriteAsync("\x16\x03\x01 hello\r\n\r\n"u8.ToArray());
            var reply = await new StreamReader(client.GetStream()).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.StartsWith("HTTP/1.1 400 Bad Request", reply, StringComparison.Ordinal);
        }
        await Robustness.SendGarbageAsync(endPoint,
        [
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort"u8.ToArray(),
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"u8.ToArray(),
            "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes("GET /" + new string('a', 100_000) + " HTTP/1.1\r\n\r\n"),
            Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("X-A: b\r\n", 500)) + "\r\n"),
            "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"u8.ToArray(),
        ]);
        var result = await Curl("-o", "/dev/null", "-w", "%{http_code}", Url(decky, "/"));
        Assert.Equal("403", result.StdOut);
        await decky.Sink.WaitForAsync("bad_request", e => e.Field("status") == "413");
        await decky.Sink.WaitForAsync("bad_request", e => e.Field("status") == "414");
        await decky.Sink.WaitForAsync("bad_request", e => e.Field("status") == "431");
        await decky.AssertNoSessionFaultsAsync();
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Https_survives_garbage_and_plain_http_on_the_tls_port()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new HttpsHoneypotFactory());
        await Robustness.SendGarbageAsync(hosted.EndPointOf("https", 443),
        [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03],
            [0x16, 0x03, 0x03, 0xff, 0xff],
        ], randomRounds: 5);
        await decky.Sink.WaitForAsync("tls_error");
        var result = await Curl("-k", "-o", "/dev/null", "-w", "%{http_code}", Url(decky, "/", "https"));
        Assert.Equal("403", result.StdOut);
        await decky.AssertNoSessionFaultsAsync();
    }

    private static int CountOf(string text, string needle)
    {
        var count = 0;
        for (var i = text.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = text.IndexOf(needle, i + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
