using System.Diagnostics;
using System.Net.Sockets;

namespace Decnet.Tests.Infrastructure;

/// <summary>Runs real attacker clients (curl, redis-cli ...) the way an operator would, with a deadline.</summary>
public static class Clients
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>True when something accepts TCP connections on the address and port.</summary>
    public static async Task<bool> IsListeningAsync(string ip, int port)
    {
        using var client = new TcpClient();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await client.ConnectAsync(ip, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A loopback /24 of its own for one test, so parallel tests never share decky addresses.</summary>
    public static string LabSubnetPrefix() => $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}";
}
