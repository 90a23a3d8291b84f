using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Honeypots;

/// <summary>Throws garbage at a service: random bytes, truncated protocol messages, abrupt resets.</summary>
public static class Robustness
{
    public static async Task SendGarbageAsync(IPEndPoint endPoint, IEnumerable<byte[]> payloads, int randomRounds = 20)
    {
        var random = new Random(5424);
        var all = payloads.ToList();
        for (var i = 0; i < randomRounds; i++)
        {
            var junk = new byte[random.Next(1, 4096)];
            random.NextBytes(junk);
            all.Add(junk);
        }
        foreach (var payload in all)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endPoint);
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(payload);
                // Read whatever comes back briefly, then reset: both halves of misbehaviour.
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
                _ = await stream.ReadAsync(new byte[8192], cts.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // The service may hang up on garbage: that is a correct answer.
            }
            client.Client.LingerState = new LingerOption(true, 0);
        }
    }
}
