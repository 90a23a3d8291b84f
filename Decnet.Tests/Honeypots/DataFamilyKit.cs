using System.Text.Json;
using System.Text.RegularExpressions;
using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Events;

namespace Decnet.Tests.Honeypots;

/// <summary>Checks shared by the database, mail and SNMP service tests.</summary>
public static class DataFamilyKit
{
    /// <summary>The bounties the ingest stores for an event a service published: real formatter, parser and rules.</summary>
    public static IReadOnlyList<ExtractedBounty> BountiesOf(HoneypotEvent honeypotEvent)
    {
        var parsed = Core.Events.Rfc5424Parser.Parse(Rfc5424Formatter.Format(honeypotEvent));
        Assert.True(parsed.Succeeded, parsed.Error);
        return BountyExtractor.Extract(parsed.Event!);
    }

    /// <summary>The single credential bounty of an event, as its payload fields.</summary>
    public static Dictionary<string, string> CredentialOf(HoneypotEvent honeypotEvent)
    {
        var bounty = Assert.Single(BountiesOf(honeypotEvent), b => b.BountyType == BountyExtractor.Credential);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(bounty.Payload)!;
    }

    /// <summary>No session or datagram of the decky ended in a fault the host had to log (the logged exceptions are shown).</summary>
    public static void AssertNoFaults(TestDecky decky)
    {
        var logged = string.Join("\n", decky.Logs.Entries.Where(e => e.Exception is not null).Select(e => e.Message + ": " + e.Exception));
        Assert.All(decky.Hosted.Statistics(), s => Assert.True(s.FaultedSessions == 0, $"{s.ServiceName} {s.EndPoint}/{s.Transport}: {s.FaultedSessions} faulted sessions\n{logged}"));
    }

    /// <summary>nmap -sV against TCP ports of a test decky; returns its normal output.</summary>
    public static async Task<string> NmapVersionScanAsync(TestDecky decky, params int[] ports)
    {
        var scan = await RealClient.RunAsync("nmap",
            ["-sT", "-sV", "-Pn", "-n", "-p", string.Join(',', ports), decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));
        Assert.True(scan.ExitCode == 0, scan.StdErr);
        return scan.StdOut;
    }

    public static void AssertNmapLine(string output, string pattern) =>
        Assert.True(Regex.IsMatch(output, pattern), $"'{pattern}' not in nmap output:\n{output}");
}
