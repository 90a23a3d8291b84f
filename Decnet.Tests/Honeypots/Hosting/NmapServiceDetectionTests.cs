using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots.Hosting;

public sealed class NmapServiceDetectionTests
{
    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_version_detection_identifies_each_service_as_the_product_it_imitates()
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        var bindings = new[] { "ftp", "http", "smtp", "mysql", "redis" }
            .Select(name => registry.CreateBinding(name, decky.Context(), decky.Address, name == "smtp" ? [new ServicePort(25)] : null))
            .ToArray();
        await decky.StartAsync(bindings);

        var scan = await RealClient.RunAsync("nmap", ["-sT", "-sV", "-Pn", "-n", "--version-light", "-p", "21,25,80,3306,6379", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(3));
        Assert.True(scan.ExitCode == 0, scan.StdErr);
        var output = scan.StdOut;
        AssertLine(output, @"21/tcp\s+open\s+ftp\s+vsftpd 3\.0\.3");
        AssertLine(output, @"25/tcp\s+open\s+smtp\s+Postfix smtpd");
        // Which nmap probe answers first varies; "((Debian))" extra info appears only for some of them.
        AssertLine(output, @"80/tcp\s+open\s+http\s+Apache httpd 2\.4\.62");
        AssertLine(output, @"3306/tcp\s+open\s+mysql\s+MySQL 5\.7\.38-log");
        AssertLine(output, @"6379/tcp\s+open\s+redis\s+Redis key-value store 7\.2\.7");
    }

    private static void AssertLine(string output, string pattern) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, pattern), $"'{pattern}' not in nmap output:\n{output}");
}
