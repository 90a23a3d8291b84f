using System.Diagnostics;
using System.Text;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>
/// The acceptance test: the forwarder runs as its own process (<c>decnet-agent forward</c>, as
/// the decnet-forwarder unit does), is killed with SIGKILL and restarted, and the master's listener and
/// ingest are stopped and restarted, all while the spool keeps growing. The logs table must end with
/// exactly one row per line written.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class LogShippingRestartTests : IAsyncLifetime
{
    private readonly TempDirectory _worker = new("decnet-worker");
    private ShippingLab _lab = null!;
    private string _config = "";

    private string Spool => Path.Combine(_worker.Path, "log", LogForwarderServiceSpoolName);

    private const string LogForwarderServiceSpoolName = "decnet.log";

    public async ValueTask InitializeAsync()
    {
        _lab = await ShippingLab.StartAsync();
        var worker = await _lab.AddWorkerAsync("worker-a");
        var agentDirectory = Path.Combine(_worker.Path, "agent");
        worker.Identity.Save(agentDirectory, "worker");
        File.WriteAllText(Path.Combine(agentDirectory, "ca.crt"), _lab.Authority.CertificatePem);
        Directory.CreateDirectory(Path.Combine(_worker.Path, "log"));
        var settings = new AgentHostSettings
        {
            Name = worker.Name,
            HostUuid = Guid.NewGuid(),
            MasterHost = "127.0.0.1",
            SyslogPort = _lab.Endpoint.Port,
            MasterFingerprint = _lab.Master.Fingerprint,
            AgentDirectory = agentDirectory,
            StateDirectory = Path.Combine(_worker.Path, "state"),
            LogDirectory = Path.Combine(_worker.Path, "log"),
            InstallDirectory = Path.Combine(_worker.Path, "install"),
            UpdaterDirectory = Path.Combine(_worker.Path, "updater"),
        };
        _config = Path.Combine(_worker.Path, "decnet.ini");
        File.WriteAllText(_config, settings.ToIni());
    }

    public async ValueTask DisposeAsync()
    {
        await _lab.DisposeAsync();
        _worker.Dispose();
    }

    [Fact]
    public async Task Killing_the_forwarder_and_restarting_the_listener_mid_stream_loses_and_duplicates_nothing()
    {
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(() => WriteSpoolAsync(stopWriting.Token));
        var forwarder = ForwarderProcess.Start(_config);
        try
        {
            await _lab.WaitForRowsAsync(n => n >= 200, TimeSpan.FromSeconds(60), forwarder.Output);

            // 1. SIGKILL in the middle of the stream, restart.
            forwarder.Kill();
            forwarder = ForwarderProcess.Start(_config);
            var before = await _lab.CountAsync();
            await _lab.WaitForRowsAsync(n => n >= before + 200, TimeSpan.FromSeconds(60), forwarder.Output);

            // 2. The master's listener and ingest go away while the forwarder is shipping, then come back on the same port.
            await _lab.StopListenerAsync();
            await ShippingLab.EventuallyAsync(() => forwarder.Output().Contains("failed, retrying", StringComparison.Ordinal), "the forwarder notices the master is gone");
            await _lab.StartListenerAsync();
            before = await _lab.CountAsync();
            await _lab.WaitForRowsAsync(n => n >= before + 200, TimeSpan.FromSeconds(60), forwarder.Output);

            // 3. Both at once: the forwarder is killed and the listener restarted while lines keep coming.
            forwarder.Kill();
            await _lab.StopListenerAsync();
            forwarder = ForwarderProcess.Start(_config);
            await _lab.StartListenerAsync();
            before = await _lab.CountAsync();
            await _lab.WaitForRowsAsync(n => n >= before + 200, TimeSpan.FromSeconds(60), forwarder.Output);

            await stopWriting.CancelAsync();
            var written = await writer;

            await _lab.WaitForRowsAsync(n => n >= written, TimeSpan.FromSeconds(90), forwarder.Output);
            // Everything acknowledged: the saved offset is the spool's end, so nothing more can arrive.
            await ShippingLab.EventuallyAsync(
                () => ForwarderCheckpoint.Load(Path.Combine(_worker.Path, "state", ForwarderCheckpoint.FileName)).Offset == new FileInfo(Spool).Length,
                "the forwarder's offset reaches the end of the spool");

            var rows = await _lab.RowsAsync();
            Assert.Equal(written, rows.Count);
            Assert.Equal(Enumerable.Range(0, written).Select(i => $"attempt {i}").Order(StringComparer.Ordinal), rows.Select(r => r.Msg ?? "").Order(StringComparer.Ordinal));
            Assert.All(rows, r => Assert.Equal("worker-a", ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
        }
        finally
        {
            await stopWriting.CancelAsync();
            forwarder.Kill();
        }
    }

    /// <summary>Appends lines in small bursts, as the agent does, until told to stop; returns how many.</summary>
    private async Task<int> WriteSpoolAsync(CancellationToken stop)
    {
        var written = 0;
        await using var stream = new FileStream(Spool, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        while (!stop.IsCancellationRequested)
        {
            var burst = new StringBuilder();
            for (var i = 0; i < 25; i++)
            {
                burst.Append(ShippingLab.Line(written++));
            }
            await stream.WriteAsync(Encoding.UTF8.GetBytes(burst.ToString()), CancellationToken.None);
            await stream.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return written;
    }

    /// <summary><c>dotnet Decnet.Agent.dll forward --config ...</c> as a child process.</summary>
    private sealed class ForwarderProcess
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private bool _killed;

        private ForwarderProcess(Process process) => _process = process;

        public static ForwarderProcess Start(string config)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(config)!,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Decnet.Agent.dll"));
            start.ArgumentList.Add("forward");
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(config);
            var forwarder = new ForwarderProcess(Process.Start(start) ?? throw new InvalidOperationException("the forwarder did not start"));
            forwarder._process.OutputDataReceived += (_, e) => forwarder.Append(e.Data);
            forwarder._process.ErrorDataReceived += (_, e) => forwarder.Append(e.Data);
            forwarder._process.BeginOutputReadLine();
            forwarder._process.BeginErrorReadLine();
            return forwarder;
        }

        public string Output()
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }

        /// <summary>SIGKILL: no shutdown code runs.</summary>
        public void Kill()
        {
            if (_killed)
            {
                return;
            }
            _killed = true;
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_output)
            {
                // Diagnostics only: keep the tail.
                if (_output.Length > 64 * 1024)
                {
                    _output.Remove(0, 32 * 1024);
                }
                _output.AppendLine(line);
            }
        }
    }
}
