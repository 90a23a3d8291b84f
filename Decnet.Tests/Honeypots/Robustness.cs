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
                // Read whatever comes back until the service goes quiet (or 2 s pass), then reset: both halves
                // of misbehaviour. Waiting for the quiet matters: a reset that overtakes unread bytes makes
                // the kernel drop them, and the service would never see the payload it is being tested on.
                var buffer = new byte[8192];
                using var overall = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                while (!overall.IsCancellationRequested)
                {
                    using var quiet = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
                    quiet.CancelAfter(TimeSpan.FromMilliseconds(150));
                    if (await stream.ReadAsync(buffer, quiet.Token) == 0)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // The service may hang up on garbage: that is a correct answer.
            }
            client.Client.LingerState = new LingerOption(true, 0);
        }
    }
}
