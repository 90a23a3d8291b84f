using System.Net;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Pages;

/// <summary>
/// Unknown addresses of a signed-in operator: the dashboard's own page for people, ProblemDetails for API
/// clients, 404 either way. (Anonymous visitors are sent to the login page first and learn nothing.)
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class NotFoundPageTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private async Task<HttpClient> SignedInAsync() => _factory.CreateClient((await _factory.CreateActiveUserAsync("reader", Decnet.Core.Users.UserRole.Viewer)).Token);

    [Fact]
    public async Task An_unknown_page_answers_404_with_the_dashboards_not_found_page()
    {
        using var client = await SignedInAsync();

        using var response = await client.GetAsync(new Uri("/no/such/page-" + Guid.NewGuid().ToString("N"), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("There is no page at this address", html, StringComparison.Ordinal);
        Assert.Contains("<title>Not found · DECNET</title>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_api_address_still_answers_problem_details()
    {
        using var client = await SignedInAsync();

        using var response = await client.GetAsync(new Uri("/api/v1/no-such-thing", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_post_to_an_unknown_address_answers_404_not_a_form_error()
    {
        using var client = await SignedInAsync();
        using var body = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync(new Uri("/no/such/form-" + Guid.NewGuid().ToString("N"), UriKind.Relative), body, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
