using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots;

/// <summary>Checks shared by the protocol tests: what an event becomes on the ingest's path, and a listener's health.</summary>
public static class WireBounty
{
    /// <summary>The bounties the ingest stores for an event a service published: through the real formatter, parser and rules.</summary>
    public static IReadOnlyList<ExtractedBounty> Of(HoneypotEvent honeypotEvent)
    {
        var parsed = Core.Events.Rfc5424Parser.Parse(Rfc5424Formatter.Format(honeypotEvent));
        Assert.True(parsed.Succeeded, parsed.Error);
        return BountyExtractor.Extract(parsed.Event!);
    }

    public static Dictionary<string, string> Payload(ExtractedBounty bounty) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(bounty.Payload)!;

    /// <summary>No session or datagram of the decky ended in a fault the host had to log (the logged exceptions say why).</summary>
    public static void AssertNoFaults(TestDecky decky)
    {
        var faults = string.Join("\n", decky.Logs.Entries.Where(e => e.Exception is not null).Select(e => e.Message + ": " + e.Exception));
        Assert.All(decky.Hosted.Statistics(), s => Assert.True(s.FaultedSessions == 0, $"{s.ServiceName} {s.EndPoint}/{s.Transport}: {s.FaultedSessions} faulted\n{faults}"));
    }
}
