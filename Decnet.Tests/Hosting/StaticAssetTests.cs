using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Hosting;

/// <summary>
/// Every static file the dashboard loads comes back with its real bytes, plain and gzip-encoded, from
/// the README's <c>dotnet run</c> and from a <c>dotnet publish</c> output, both in Production. The
/// expected bytes are read from where each file really comes from: the repository, the restored
/// packages, the scoped CSS bundle of the build.
/// </summary>
[Collection(MasterProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed partial class StaticAssetTests(ReadmeMaster master)
{
    private static readonly Lazy<IReadOnlyDictionary<string, byte[]>> Sources = new(LoadSources);

    [Fact]
    public async Task Dotnet_run_serves_every_asset_with_its_real_bytes()
    {
        await AssertAssetsAsync(master.Process);
        Assert.True(File.Exists(Path.Combine(master.DataDirectory, "decnet.db")), "no database in DECNET_DATA_DIR");
        Assert.NotEmpty(Directory.GetFiles(master.LogDirectory, "decnet-web-*.log"));
    }

    [Fact]
    public async Task A_published_build_serves_every_asset_with_its_real_bytes()
    {
        using var root = new TempDirectory("decnet-publish");
        var folder = Path.Combine(root.Path, "app");
        await MasterProcess.PublishAsync(folder);
        var (host, port) = MasterProcess.FreeAddress();
        await using var published = await MasterProcess.PublishedAsync(folder, MasterProcess.Environment(host, port, root.Path));
        await AssertAssetsAsync(published);
        Assert.True(File.Exists(Path.Combine(root.Path, "data", "decnet.db")), "no database in DECNET_DATA_DIR");
    }

    [Fact]
    public async Task Relative_data_and_log_folders_are_under_the_content_root_not_the_working_directory()
    {
        using var root = new TempDirectory("decnet-publish");
        var folder = Path.Combine(root.Path, "app");
        var elsewhere = Directory.CreateDirectory(Path.Combine(root.Path, "elsewhere")).FullName;
        await MasterProcess.PublishAsync(folder);
        var (host, port) = MasterProcess.FreeAddress();
        var environment = MasterProcess.Environment(host, port, root.Path);
        environment["DECNET_DATA_DIR"] = "state";
        environment["DECNET_LOG_DIRECTORY"] = Path.Combine("state", "journal");

        // A service manager that starts the build from another directory and names its content root.
        await using var published = await MasterProcess.PublishedAsync(folder, environment, elsewhere, "--contentRoot", folder);

        var data = Path.Combine(folder, "state");
        Assert.True(File.Exists(Path.Combine(data, "decnet.db")), "no database under the content root");
        Assert.True(Directory.Exists(Path.Combine(data, "keys")), "no cookie keys under the content root");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(data, "journal"), "decnet-web-*.log"));
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
        Assert.Contains(published.Lines, line => line.Contains(
            $"Data folder {data} (database {Path.Combine(data, "decnet.db")}); process logs in {Path.Combine(data, "journal")}", StringComparison.Ordinal));
        // The content root's wwwroot is found as well: the dashboard is whole.
        await AssertAssetsAsync(published);
    }

    private static async Task AssertAssetsAsync(MasterProcess process)
    {
        using var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = new Uri(process.BaseUrl) };
        foreach (var (path, source) in Sources.Value)
        {
            await AssertServedAsync(client, path, source);
        }

        // And whatever the login page links to (fingerprinted names included) is one of those files.
        var html = await client.GetStringAsync("/account/login");
        var linked = LinkedAsset().Matches(html).Select(m => m.Groups["url"].Value).Where(u => !u.StartsWith("http", StringComparison.Ordinal)).ToList();
        Assert.Contains("_framework/blazor.web.js", linked);
        Assert.True(linked.Count >= 5, string.Join(", ", linked));
        foreach (var url in linked)
        {
            var body = await client.GetByteArrayAsync("/" + url.TrimStart('/'));
            Assert.True(Sources.Value.Values.Any(bytes => bytes.AsSpan().SequenceEqual(body)), $"/{url} (linked from the login page) is not one of the dashboard's files");
        }
        Assert.DoesNotContain(process.Lines, line => line.Contains("Static Web Assets are not enabled", StringComparison.Ordinal));
        Assert.DoesNotContain(process.Lines, line => line.Contains("Overriding address", StringComparison.Ordinal));
    }

    private static async Task AssertServedAsync(HttpClient client, string path, byte[] source)
    {
        using (var plain = await client.GetAsync("/" + path))
        {
            Assert.True(plain.StatusCode == HttpStatusCode.OK, $"/{path}: {(int)plain.StatusCode}");
            Assert.Empty(plain.Content.Headers.ContentEncoding);
            var body = await plain.Content.ReadAsByteArrayAsync();
            Assert.True(body.AsSpan().SequenceEqual(source), $"/{path}: {body.Length} bytes served, the file has {source.Length}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/" + path);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var gzip = await client.SendAsync(request);
        Assert.True(gzip.StatusCode == HttpStatusCode.OK, $"/{path} (gzip): {(int)gzip.StatusCode}");
        Assert.Equal(["gzip"], gzip.Content.Headers.ContentEncoding);
        var compressed = await gzip.Content.ReadAsByteArrayAsync();
        Assert.True(compressed.Length > 2 && compressed[0] == 0x1f && compressed[1] == 0x8b, $"/{path} (gzip): {compressed.Length} bytes, not a gzip stream");
        using var inflated = new MemoryStream();
        await using (var stream = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
        {
            await stream.CopyToAsync(inflated);
        }
        Assert.True(inflated.ToArray().AsSpan().SequenceEqual(source), $"/{path} (gzip) does not inflate to the file");
    }

    /// <summary>Route → the bytes of the file it must serve, from each file's origin.</summary>
    private static IReadOnlyDictionary<string, byte[]> LoadSources()
    {
        var root = MasterProcess.RepositoryRoot;
        var web = Path.Combine(root, "Decnet.Web");
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "obj", "project.assets.json")));
        var packageFolder = assets.RootElement.GetProperty("packageFolders").EnumerateObject().First().Name;
        string Package(string id, string file)
        {
            var library = assets.RootElement.GetProperty("libraries").EnumerateObject()
                .Single(l => l.Name.StartsWith(id + "/", StringComparison.OrdinalIgnoreCase)).Value.GetProperty("path").GetString()!;
            return Path.Combine(packageFolder, library, file);
        }

        var files = new Dictionary<string, string>
        {
            ["_framework/blazor.web.js"] = Package("Microsoft.AspNetCore.App.Internal.Assets", "_framework/blazor.web.js"),
            ["_content/MudBlazor/MudBlazor.min.css"] = Package("MudBlazor", "staticwebassets/MudBlazor.min.css"),
            ["_content/MudBlazor/MudBlazor.min.js"] = Package("MudBlazor", "staticwebassets/MudBlazor.min.js"),
            ["Decnet.Web.styles.css"] = Path.Combine(web, "obj", MasterProcess.Configuration, "net10.0", "scopedcss", "bundle", "Decnet.Web.styles.css"),
            ["assets/decnet.css"] = Path.Combine(root, "wwwroot-assets", "decnet.css"),
            ["assets/decnet.js"] = Path.Combine(root, "wwwroot-assets", "decnet.js"),
            ["assets/logo.svg"] = Path.Combine(root, "wwwroot-assets", "logo.svg"),
            ["assets/favicon.svg"] = Path.Combine(root, "wwwroot-assets", "favicon.svg"),
        };
        var sources = files.ToDictionary(f => f.Key, f => File.ReadAllBytes(f.Value));
        Assert.All(sources, s => Assert.True(s.Value.Length > 0, s.Key + " is empty at its origin"));
        // The scoped bundle really carries the components' scoped rules.
        Assert.Contains("[b-", System.Text.Encoding.UTF8.GetString(sources["Decnet.Web.styles.css"]), StringComparison.Ordinal);
        return sources;
    }

    [GeneratedRegex("""<(?:link|script)[^>]*(?:href|src)="(?<url>[^"]+)"[^>]*>""")]
    private static partial Regex LinkedAsset();
}
