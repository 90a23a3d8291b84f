using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Events;

[Trait("Category", TestCategories.Integration)]
public sealed class SiemFilesTests
{
    private static HoneypotEvent Event(int i) => new(
        new DateTimeOffset(2026, 4, 18, 10, 0, 0, TimeSpan.Zero).AddSeconds(i), "web-01", "http", "request",
        [new("src_ip", "203.0.113.9"), new("path", $"/admin/{i}\n\"x\"")]);

    [Fact]
    public async Task Stored_events_feed_the_raw_and_json_files_and_rejected_lines_only_the_raw_one()
    {
        await using var bed = await CoreTestBed.StartAsync();
        var ingester = bed.Services.GetRequiredService<EventIngester>();
        var siem = bed.Services.GetRequiredService<SiemFiles>();
        var first = new IngestLine(Rfc5424Formatter.Format(Event(1)), "a");

        await ingester.WriteBatchAsync([first, new IngestLine(Rfc5424Formatter.Format(Event(2)), "b"), new IngestLine("garbage\nwith a break", "c")], CancellationToken.None);
        // A replay stores nothing new and appends nothing.
        await ingester.WriteBatchAsync([first], CancellationToken.None);

        var raw = File.ReadAllLines(Path.Combine(siem.Folder, SiemFiles.RawFileName));
        Assert.Equal(3, raw.Length);
        Assert.Equal(first.RawLine, raw[0]);
        Assert.Equal("garbage with a break", raw[2]);
        var json = File.ReadAllLines(Path.Combine(siem.Folder, SiemFiles.JsonFileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, json.Count);
        Assert.Equal("web-01", json[0].GetProperty("decky").GetString());
        Assert.Equal("203.0.113.9", json[0].GetProperty("attacker_ip").GetString());
        Assert.Equal("/admin/1\n\"x\"", json[0].GetProperty("fields").GetProperty("path").GetString());
    }

    [Fact]
    public async Task Files_rotate_at_their_size_limit_and_keep_a_bounded_number()
    {
        await using var bed = await CoreTestBed.StartAsync(new Dictionary<string, string?>
        {
            ["Decnet:Events:Siem:MaxFileBytes"] = "2000",
            ["Decnet:Events:Siem:MaxFiles"] = "2",
        });
        var ingester = bed.Services.GetRequiredService<EventIngester>();
        var siem = bed.Services.GetRequiredService<SiemFiles>();
        for (var i = 0; i < 60; i++)
        {
            await ingester.WriteBatchAsync([new IngestLine(Rfc5424Formatter.Format(Event(i)), $"k{i}")], CancellationToken.None);
        }

        var files = Directory.GetFiles(siem.Folder, "decnet.log*").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(["decnet.log", "decnet.log.1", "decnet.log.2"], files);
        Assert.All(files, f => Assert.True(new FileInfo(Path.Combine(siem.Folder, f!)).Length <= 2000));
    }
}
