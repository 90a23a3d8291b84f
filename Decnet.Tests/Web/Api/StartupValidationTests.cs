using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Decnet.Tests.Web.Api;

[Trait("Category", TestCategories.Integration)]
public sealed class StartupValidationTests
{
    [Fact]
    public async Task Bad_options_stop_the_start_and_every_problem_is_listed()
    {
        await using var factory = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Auth:JwtSecret"] = "changeme",
            ["Decnet:Auth:LoginAttemptsPerMinute"] = "0",
            ["Decnet:Web:Port"] = "70000",
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var messages = Flatten(error).OfType<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        Assert.Contains(messages, m => m.Contains("at least 32 characters", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("well-known default", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("LoginAttemptsPerMinute", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Port", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Requests_and_logins_are_written_to_the_rolling_log_file_without_passwords()
    {
        await using var factory = new DecnetWebFactory();
        await factory.LoginAsync("admin", DecnetWebFactory.AdminPassword);
        using var client = factory.CreateClient();
        var refused = await client.PostAsync("/api/v1/auth/login", new StringContent("""{"username":"admin","password":"wrong-secret-value"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);

        var folder = Path.Combine(factory.DataDirectory, "logs");
        string text = "";
        // Generous on a loaded machine: the wait ends as soon as the line is there.
        // The request line is written after the response is sent, so both lines are awaited.
        for (var attempt = 0; attempt < 300 && !(text.Contains("Failed login for admin", StringComparison.Ordinal)
            && text.Contains("POST /api/v1/auth/login responded 401", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(100);
            text = string.Concat(Directory.GetFiles(folder, "decnet-web-*.log").Select(ReadShared));
        }
        // Refused logins are logged per request; fast successful ones only at Debug.
        Assert.Contains("POST /api/v1/auth/login responded 401", text, StringComparison.Ordinal);
        Assert.Contains("Failed login for admin", text, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain(DecnetWebFactory.AdminPassword, text, StringComparison.Ordinal);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
