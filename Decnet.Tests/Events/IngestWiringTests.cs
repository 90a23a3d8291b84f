using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Events;

/// <summary>The web host runs the ingest worker and reports it in health.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class IngestWiringTests : IAsyncLifetime
{
    private readonly DecnetWebFactory _factory = new();
    private string _token = "";

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _token = (await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer)).Token;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task The_web_host_ingests_decky_events_and_reports_a_critical_ok_ingestion_component()
    {
        var sink = _factory.Services.GetRequiredService<ChannelEventSink>();
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "web-01", "http", "request", [new("remote_addr", "203.0.113.77")]));
        var ingester = _factory.Services.GetRequiredService<EventIngester>();
        for (var attempt = 0; attempt < 200 && ingester.Counters.Ingested == 0; attempt++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, ingester.Counters.Ingested);
        var latest = Assert.Single(await _factory.Services.GetRequiredService<Decnet.Core.Search.EventLog>().LatestAsync(20, CancellationToken.None));
        Assert.Equal(("web-01", "http", "request", "203.0.113.77"), (latest.Decky, latest.Service, latest.EventType, latest.AttackerIp));

        using var client = _factory.CreateClient(_token);
        JsonElement ingestion = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            // 503 until every critical probe has reported once: read the body whatever the status.
            using var response = await client.GetAsync("/api/v1/health");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (body.GetProperty("components").TryGetProperty("ingestion", out ingestion) && ingestion.GetProperty("status").GetString() == "ok")
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal("ok", ingestion.GetProperty("status").GetString());
        Assert.True(ingestion.GetProperty("critical").GetBoolean());
    }
}
