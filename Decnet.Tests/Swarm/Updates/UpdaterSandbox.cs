using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Updates;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Agent;

namespace Decnet.Tests.Swarm.Updates;

/// <summary>
/// A worker laid out as the enrollment bootstrap leaves it, in a sandbox folder: etc/decnet (decnet.ini,
/// agent and updater identities), opt/decnet/releases/active holding the real worker build with
/// <c>current</c> → releases/active, and a real <c>Decnet.Agent.dll updater</c> process which (without
/// systemd) runs the agent from current/. The swarm CA and master identity live in <see cref="CaDirectory"/>.
/// </summary>
public sealed class UpdaterSandbox : IAsyncDisposable
{
    private readonly TempDirectory _root = new("decnet-updater");
    private readonly StringBuilder _output = new();
    private readonly List<X509Certificate2> _certificates = [];
    private Process? _updater;

    public UpdaterSandbox(string workerName = "worker-a")
    {
        WorkerName = workerName;
        Ca = SwarmCertificateAuthority.LoadOrCreate(CaDirectory);
        Trust = Ca.CreateTrust();
        Master = Ca.GetOrCreateMasterIdentity();
        Worker = Ca.IssueWorker(workerName, ["127.0.0.1"]);
        Updater = Ca.IssueUpdater(workerName);
        Worker.Save(AgentDirectory, "worker");
        File.WriteAllText(System.IO.Path.Combine(AgentDirectory, "ca.crt"), Ca.CertificatePem);
        Updater.Save(UpdaterDirectory, "updater");
        File.WriteAllText(System.IO.Path.Combine(UpdaterDirectory, "ca.crt"), Ca.CertificatePem);
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "var", "log", "decnet"));

        // The first release, as bootstrap.sh installs it: the worker build, no manifest yet.
        var active = System.IO.Path.Combine(InstallDirectory, "releases", "active");
        foreach (var (file, relative) in AgentBuild.Files(BuildDirectory))
        {
            var target = System.IO.Path.Combine(active, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.CreateSymbolicLink(CurrentLink, active);
    }

    public string WorkerName { get; }
    public SwarmCertificateAuthority Ca { get; }
    public SwarmTrust Trust { get; }
    public IssuedIdentity Master { get; }
    public IssuedIdentity Worker { get; }
    public IssuedIdentity Updater { get; }
    public Guid HostUuid { get; } = Guid.NewGuid();
    public int AgentPort { get; } = AgentSandbox.FreePort();
    public int UpdaterPort { get; } = AgentSandbox.FreePort();

    public string Path => _root.Path;
    public string CaDirectory => System.IO.Path.Combine(Path, "master-ca");
    public string ConfigDirectory => System.IO.Path.Combine(Path, "etc", "decnet");
    public string AgentDirectory => System.IO.Path.Combine(ConfigDirectory, "agent");
    public string UpdaterDirectory => System.IO.Path.Combine(ConfigDirectory, "updater");
    public string ConfigPath => System.IO.Path.Combine(ConfigDirectory, "decnet.ini");
    public string InstallDirectory => System.IO.Path.Combine(Path, "opt", "decnet");
    public string Releases => System.IO.Path.Combine(InstallDirectory, "releases");
    public string CurrentLink => System.IO.Path.Combine(InstallDirectory, "current");
    public Uri UpdaterUri => new($"https://127.0.0.1:{UpdaterPort}/");
    public Uri AgentUri => new($"https://127.0.0.1:{AgentPort}/");

    /// <summary>The Decnet.Agent build of this source tree (what the master ships).</summary>
    public static string BuildDirectory => AgentBuild.Locate(null, AppContext.BaseDirectory);

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

    /// <summary>The host row the master keeps for this worker (address loopback, updater pinned).</summary>
    public SwarmHost Host() => new()
    {
        Id = HostUuid,
        Name = WorkerName,
        Address = "127.0.0.1",
        AgentPort = AgentPort,
        Status = SwarmHostStatus.Active,
        ClientCertFingerprint = Worker.Fingerprint,
        UpdaterCertFingerprint = Updater.Fingerprint,
    };

    /// <summary>Starts the updater (which starts the agent from current/) and waits until both answer /health.</summary>
    public async Task StartAsync()
    {
        var settings = new AgentHostSettings
        {
            Name = WorkerName,
            HostUuid = HostUuid,
            MasterHost = "127.0.0.1",
            SwarmControllerPort = AgentSandbox.FreePort(),
            SyslogPort = AgentSandbox.FreePort(),
            MasterFingerprint = Master.Fingerprint,
            AgentHost = "127.0.0.1",
            AgentPort = AgentPort,
            AgentDirectory = AgentDirectory,
            UpdaterDirectory = UpdaterDirectory,
            StateDirectory = System.IO.Path.Combine(Path, "var", "lib", "decnet"),
            LogDirectory = System.IO.Path.Combine(Path, "var", "log", "decnet"),
            InstallDirectory = InstallDirectory,
            HeartbeatSeconds = 600,
        };
        await File.WriteAllTextAsync(ConfigPath, settings.ToIni() + "runtime = embedded\n");

        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            AgentSandbox.AgentDll, "updater", "--config", ConfigPath, "--host", "127.0.0.1",
            "--port", UpdaterPort.ToString(CultureInfo.InvariantCulture), "--restart", "process",
            // A loaded machine may take a while to start an agent; a crashed one ends the probing at once.
            "--probe-attempts", "180", "--probe-delay-ms", "500",
        })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_NOLOGO"] = "1";
        _updater = new Process { StartInfo = start };
        _updater.OutputDataReceived += (_, e) => Append(e.Data);
        _updater.ErrorDataReceived += (_, e) => Append(e.Data);
        _updater.Start();
        _updater.BeginOutputReadLine();
        _updater.BeginErrorReadLine();

        using var updater = MasterClient();
        await WaitForAsync(updater, "health", "the updater");
        await WaitForAgentAsync();
    }

    /// <summary>Waits until an updater answers /health again (after it restarted itself).</summary>
    public async Task WaitForUpdaterAsync()
    {
        using var updater = MasterClient();
        await WaitForAsync(updater, "health", "the updater", allowUpdaterExit: true);
    }

    /// <summary>The updater process this sandbox started (gone after the updater restarted itself).</summary>
    public Process? FirstUpdater => _updater;

    /// <summary>Waits until the agent answers the master on /health.</summary>
    public async Task WaitForAgentAsync()
    {
        using var agent = AgentClient();
        // The agent outlives an updater that handed over to its successor.
        await WaitForAsync(agent, "health", "the agent", allowUpdaterExit: true);
    }

    /// <summary>The master's client for the updater: master identity, updater pinned (and named) as the master does.</summary>
    public UpdaterClient UpdaterClient(string? hostName = null) =>
        new(hostName ?? WorkerName, UpdaterUri, Updater.Fingerprint, Certificate(Master), Trust, TimeSpan.FromSeconds(10));

    /// <summary>A raw HTTP client presenting <paramref name="identity"/> (none when null), pinning the updater.</summary>
    public HttpClient ClientWith(X509Certificate2? identity)
    {
        var handler = identity is null
            ? new SocketsHttpHandler
            {
                UseProxy = false,
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = WorkerName,
                    RemoteCertificateValidationCallback = (_, server, _, _) => PinnedTls.IsExpectedServer(server, Trust, Updater.Fingerprint),
                },
            }
            : PinnedTls.CreateHandler(identity, Trust, Updater.Fingerprint, TimeSpan.FromSeconds(10));
        return new HttpClient(handler) { BaseAddress = UpdaterUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient MasterClient() => ClientWith(Certificate(Master));

    public HttpClient AgentClient() =>
        new(PinnedTls.CreateHandler(Certificate(Master), Trust, Worker.Fingerprint, TimeSpan.FromSeconds(10))) { BaseAddress = AgentUri, Timeout = TimeSpan.FromSeconds(30) };

    public X509Certificate2 Certificate(IssuedIdentity identity)
    {
        var certificate = identity.ToCertificate();
        _certificates.Add(certificate);
        return certificate;
    }

    /// <summary>Where <c>current</c> resolves to, and the sha in each slot's manifest.</summary>
    public string CurrentTarget => new DirectoryInfo(CurrentLink).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "";

    public string? ManifestSha(string slot)
    {
        var manifest = System.IO.Path.Combine(Releases, slot, ReleaseArchive.ManifestFileName);
        return File.Exists(manifest)
            ? System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("sha").GetString()
            : null;
    }

    /// <summary>Every file under the install tree with its length and write time: a fingerprint of "nothing changed".</summary>
    public string TreeSnapshot()
    {
        var lines = Directory.EnumerateFileSystemEntries(InstallDirectory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(p => !p.EndsWith(".pid", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(p =>
            {
                var info = new FileInfo(p);
                return info.LinkTarget is { } link ? $"{p} -> {link}" : File.Exists(p) ? $"{p} {info.Length} {info.LastWriteTimeUtc:O}" : $"{p}/";
            });
        return string.Join('\n', lines);
    }

    /// <summary>A release made of the worker build with <paramref name="replace"/> swapping files for others (path inside the release → content).</summary>
    public async Task<ReleasePackage> ReleaseAsync(IReadOnlyDictionary<string, byte[]>? replace = null)
    {
        var files = AgentBuild.Files(BuildDirectory).ToList();
        var overrides = System.IO.Path.Combine(Path, "overrides", Guid.NewGuid().ToString("N"));
        foreach (var (relative, content) in replace ?? new Dictionary<string, byte[]>())
        {
            var file = System.IO.Path.Combine(overrides, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            await File.WriteAllBytesAsync(file, content);
            files.RemoveAll(f => f.RelativePath == relative);
            files.Add((file, relative));
        }
        var tarball = System.IO.Path.Combine(Path, $"release-{Guid.NewGuid():N}.tar.gz");
        await using var stream = File.Create(tarball);
        var sha = await ReleaseArchive.WriteAsync(files, stream, CancellationToken.None);
        return new ReleasePackage(tarball, sha, stream.Length);
    }

    public async ValueTask DisposeAsync()
    {
        if (_updater is { HasExited: false })
        {
            _updater.Kill(entireProcessTree: true);
            await _updater.WaitForExitAsync();
        }
        _updater?.Dispose();
        // A successor updater (update-self without systemd) and the agent it started are not in that tree.
        foreach (var pidFile in new[] { "updater.pid", "agent.pid" })
        {
            await KillRecordedAsync(System.IO.Path.Combine(InstallDirectory, pidFile));
        }
        foreach (var certificate in _certificates)
        {
            certificate.Dispose();
        }
        Trust.Dispose();
        Ca.Dispose();
        _root.Dispose();
    }

    /// <summary>The pid a file names, when it is a dotnet process other than this test host.</summary>
    public static int? RecordedPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task KillRecordedAsync(string pidFile)
    {
        if (RecordedPid(pidFile) is not { } pid)
        {
            return;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.ProcessName == "dotnet")
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private async Task WaitForAsync(HttpClient client, string path, string what, bool allowUpdaterExit = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_updater is { HasExited: true } && !allowUpdaterExit)
            {
                throw new InvalidOperationException($"the updater exited with {_updater.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{what} did not answer /{path} in time:\n{Output}");
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
