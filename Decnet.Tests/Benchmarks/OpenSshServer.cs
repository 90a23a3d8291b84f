using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Debian's stock sshd as the reference a decky is compared with: started in the foreground (-D) with
/// a config, host key and pid file of its own in a temp folder, so it never touches the machine's
/// /etc/ssh or a system sshd, and stopped by its process id.
/// </summary>
public sealed class OpenSshServer : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/sshd";
    private readonly Process _process;
    private readonly string _root;

    private OpenSshServer(Process process, string root, IPEndPoint endPoint)
    {
        _process = process;
        _root = root;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>CPU of the listening sshd and of the per-connection processes it has reaped so far.</summary>
    public TimeSpan Cpu => CpuClock.WithReapedChildren(_process.Id);

    public static bool Installed => File.Exists(Binary);

    /// <param name="defaultHostKeys">RSA, ECDSA and Ed25519 host keys in that order, as a Debian install has
    /// them (the advertised host key algorithms follow the keys); otherwise Ed25519 only, which is quicker.</param>
    public static async Task<OpenSshServer> StartAsync(IPAddress address, bool defaultHostKeys = false)
    {
        var root = Directory.CreateTempSubdirectory("decnet-bench-sshd-").FullName;
        List<string> hostKeys = [];
        foreach (var type in defaultHostKeys ? new[] { "rsa", "ecdsa", "ed25519" } : ["ed25519"])
        {
            var hostKey = Path.Combine(root, $"ssh_host_{type}_key");
            var keygen = await BenchmarkProcess.RunAsync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", hostKey], root, TimeSpan.FromSeconds(30));
            Assert.True(keygen.ExitCode == 0, "ssh-keygen: " + keygen.StdErr);
            hostKeys.Add(hostKey);
        }
        // sshd refuses to start without its privilege separation directory, which only a booted
        // system's tmpfiles create.
        Directory.CreateDirectory("/run/sshd");
        var port = BenchmarkProcess.FreePort(address);
        var config = Path.Combine(root, "sshd_config");
        // Stock Debian settings apart from what keeps this instance private to the benchmark.
        await File.WriteAllLinesAsync(config,
        [
            $"ListenAddress {address}:{port}",
            .. hostKeys.Select(k => $"HostKey {k}"),
            $"PidFile {Path.Combine(root, "sshd.pid")}",
            "UsePAM yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication no",
            "LogLevel ERROR",
        ]);
        var info = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-D", "-e", "-f", config })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        // Keep draining its log so a chatty sshd never blocks on a full pipe.
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var server = new OpenSshServer(process, root, new IPEndPoint(address, port));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            Assert.False(process.HasExited, $"sshd exited with {(process.HasExited ? process.ExitCode : 0)}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(server.EndPoint);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        await server.DisposeAsync();
        throw new TimeoutException("sshd did not start listening within 15 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Only the sshd this benchmark started, by its own process id (its per-connection
            // children exit with their connections).
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not affect later runs.
        }
    }
}
