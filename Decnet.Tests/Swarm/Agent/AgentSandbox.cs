using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>
/// A worker installed into a sandbox folder the way the bundle lays it out (etc/decnet with decnet.ini
/// and the agent identity, opt/decnet, units, bin, var/log/decnet, var/lib/decnet), a swarm CA, the
/// master identity, and the real <c>Decnet.Agent.dll serve</c> child process. The master's HTTP client
/// presents the master identity and pins the worker's fingerprint, as the master does.
/// </summary>
public sealed class AgentSandbox : IAsyncDisposable
{
    private readonly TempDirectory _root = new("decnet-agent");
    private readonly StringBuilder _output = new();
    private Process? _process;
    private X509Certificate2? _masterCertificate;

    public AgentSandbox(string workerName = "worker-a")
    {
        Ca = SwarmCertificateAuthority.LoadOrCreate(CaDirectory);
        Trust = Ca.CreateTrust();
        Master = Ca.GetOrCreateMasterIdentity();
        Worker = Ca.IssueWorker(workerName, ["127.0.0.1"]);
        WorkerName = workerName;
        Directory.CreateDirectory(InstallDirectory);
        File.WriteAllText(System.IO.Path.Combine(InstallDirectory, "Decnet.Agent.dll"), "the worker build");
        Directory.CreateDirectory(UnitsDirectory);
        File.WriteAllText(System.IO.Path.Combine(UnitsDirectory, "decnet-agent.service"), "[Unit]\n");
        File.WriteAllText(System.IO.Path.Combine(UnitsDirectory, "unrelated.service"), "[Unit]\n");
        Directory.CreateDirectory(BinDirectory);
        File.WriteAllText(System.IO.Path.Combine(BinDirectory, "decnet-agent"), "#!/bin/sh\n");
        File.WriteAllText(System.IO.Path.Combine(BinDirectory, "other-tool"), "#!/bin/sh\n");
        Directory.CreateDirectory(LogDirectory);
        Worker.Save(AgentDirectory, "worker");
        File.WriteAllText(System.IO.Path.Combine(AgentDirectory, "ca.crt"), Ca.CertificatePem);
    }

    public SwarmCertificateAuthority Ca { get; }
    public SwarmTrust Trust { get; }
    public IssuedIdentity Master { get; }
    public IssuedIdentity Worker { get; }
    public string WorkerName { get; }
    public Guid HostUuid { get; } = Guid.NewGuid();
    public int AgentPort { get; } = FreePort();

    public string Path => _root.Path;
    public string ConfigDirectory => System.IO.Path.Combine(Path, "etc", "decnet");
    public string AgentDirectory => System.IO.Path.Combine(ConfigDirectory, "agent");
    public string ConfigPath => System.IO.Path.Combine(ConfigDirectory, "decnet.ini");
    public string InstallDirectory => System.IO.Path.Combine(Path, "opt", "decnet");
    public string UnitsDirectory => System.IO.Path.Combine(Path, "systemd");
    public string BinDirectory => System.IO.Path.Combine(Path, "bin");
    public string LogDirectory => System.IO.Path.Combine(Path, "var", "log", "decnet");
    public string StateDirectory => System.IO.Path.Combine(Path, "var", "lib", "decnet");
    public string SpoolPath => System.IO.Path.Combine(LogDirectory, "decnet.log");
    public string CaDirectory => System.IO.Path.Combine(Path, "master-ca");
    public Uri AgentUri => new($"https://127.0.0.1:{AgentPort}/");

    public Process? Process => _process;

    /// <summary>A command the agent runs under (its arguments, then <c>dotnet</c> and the agent's), e.g. a private mount namespace.</summary>
    public IReadOnlyList<string>? LaunchPrefix { get; set; }

    /// <summary>Everything the agent wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string AgentDll => System.IO.Path.Combine(AppContext.BaseDirectory, "Decnet.Agent.dll");

    /// <summary>The worker INI as the bundle writes it, pointed into the sandbox, plus the agent-only keys.</summary>
    public string Ini(int swarmControllerPort, int heartbeatSeconds = 600, string runtime = "embedded")
    {
        var settings = new AgentHostSettings
        {
            Name = WorkerName,
            HostUuid = HostUuid,
            MasterHost = "127.0.0.1",
            SwarmControllerPort = swarmControllerPort,
            MasterFingerprint = Master.Fingerprint,
            AgentHost = "127.0.0.1",
            AgentPort = AgentPort,
            AgentDirectory = AgentDirectory,
            UpdaterDirectory = System.IO.Path.Combine(ConfigDirectory, "updater"),
            StateDirectory = StateDirectory,
            LogDirectory = LogDirectory,
            InstallDirectory = InstallDirectory,
            HeartbeatSeconds = heartbeatSeconds,
        };
        return settings.ToIni() + string.Create(CultureInfo.InvariantCulture,
            $"runtime = {runtime}\nconfig-dir = {ConfigDirectory}\nunits-dir = {UnitsDirectory}\nbin-dir = {BinDirectory}\n");
    }

    /// <summary>Starts <c>dotnet Decnet.Agent.dll serve --config …</c> and waits until it answers /health.</summary>
    public async Task StartAsync(string? ini = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        await File.WriteAllTextAsync(ConfigPath, ini ?? Ini(FreePort()));
        await KillAsync();
        _process?.Dispose();
        _process = Launch(["serve", "--config", ConfigPath], environment);
        using var client = MasterClient();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the agent exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri(AgentUri, "health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the agent did not answer /health in time:\n{Output}");
    }

    /// <summary>Runs the agent with <paramref name="arguments"/> to completion (bad settings end it at once).</summary>
    public async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Launch(arguments, environment);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        process.WaitForExit();
        return (process.ExitCode, Output);
    }

    /// <summary>The master's client: master identity, pinned on this worker's fingerprint.</summary>
    public HttpClient MasterClient()
    {
        _masterCertificate ??= Master.ToCertificate();
        return ClientWith(_masterCertificate);
    }

    /// <summary>A client presenting <paramref name="certificate"/> (or none) that still pins the worker.</summary>
    public HttpClient ClientWith(X509Certificate2? certificate)
    {
        SocketsHttpHandler handler;
        if (certificate is null)
        {
            handler = new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = WorkerName,
                    RemoteCertificateValidationCallback = (_, server, _, _) => PinnedTls.IsExpectedServer(server, Trust, Worker.Fingerprint),
                },
            };
        }
        else
        {
            handler = PinnedTls.CreateHandler(certificate, Trust, Worker.Fingerprint, TimeSpan.FromSeconds(5));
        }
        return new HttpClient(handler) { BaseAddress = AgentUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static async Task<HttpResponseMessage> PostAsync<T>(HttpClient client, string path, T body) =>
        await client.PostAsync(path, JsonContent.Create(body, options: DeckyConfigJson.Options));

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<T>(DeckyConfigJson.Options) ?? throw new InvalidOperationException("empty body");

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> and the agent's output.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what} did not happen within {seconds} s. Agent output:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    public string[] SpoolLines() =>
        File.Exists(SpoolPath)
            ? ReadShared(SpoolPath).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : [];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _masterCertificate?.Dispose();
        Trust.Dispose();
        Ca.Dispose();
        _root.Dispose();
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private Process Launch(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(LaunchPrefix is { Count: > 0 } prefix ? prefix[0] : "dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        if (LaunchPrefix is { Count: > 0 })
        {
            foreach (var argument in LaunchPrefix.Skip(1).Append("dotnet"))
            {
                start.ArgumentList.Add(argument);
            }
        }
        start.ArgumentList.Add(AgentDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
