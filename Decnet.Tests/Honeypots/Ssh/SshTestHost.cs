using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>An SSH honeypot on a loopback port plus helpers that drive the stock OpenSSH client at it.</summary>
public sealed class SshTestHost : IAsyncDisposable
{
    private readonly HoneypotTestContext _decky;
    private readonly HostedTestService _listener;

    private SshTestHost(HoneypotTestContext decky, HostedTestService listener)
    {
        _decky = decky;
        _listener = listener;
    }

    /// <summary>An SSH service on the real <see cref="Decnet.Core.Honeypots.Hosting.ServiceHost"/>, on a loopback port.</summary>
    public static async Task<SshTestHost> StartAsync(Dictionary<string, string>? persona = null, string? stateDirectory = null, TimeProvider? time = null, string distro = "debian",
        Decnet.Core.Honeypots.Artifacts.ArtifactQuotaOptions? artifacts = null)
    {
        persona ??= [];
        persona.TryAdd("failure_delay_ms", "100");
        var decky = new HoneypotTestContext(new Dictionary<string, string>(persona, StringComparer.OrdinalIgnoreCase), distro: distro, stateDirectory: stateDirectory, time: time, artifacts: artifacts);
        return new SshTestHost(decky, await HostedTestService.StartAsync(new SshServiceFactory(), decky));
    }

    public SshService Service => (SshService)_listener.Service;
    public Decnet.Core.Honeypots.Hosting.HostedDecky Hosted => _listener.Hosted;
    public int Port => _listener.Port;
    public CollectingEventSink Sink => _decky.Sink;
    public string Root => _decky.Root;
    public string StateDirectory => _decky.Context.StateDirectory;
    public string ArtifactsDirectory => Path.Combine(_decky.Context.ArtifactsDirectory, "decky-01", "ssh");
    public IReadOnlyCollection<Exception> Errors => _listener.Errors;
    public Decnet.Core.Honeypots.Artifacts.ArtifactQuota Artifacts => _decky.Artifacts;

    public static bool ClientsInstalled => ClientProcess.Exists("ssh") && ClientProcess.Exists("sshpass");

    public IEnumerable<string> SshOptions(params string[] extra) =>
    [
        // ssh keeps the first value it sees for an option, so per-test options go first.
        .. extra,
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=30", "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no", "-o", "GSSAPIAuthentication=no",
    ];

    /// <summary>sshpass + ssh with a password, running <paramref name="command"/> (or a shell fed from stdin).</summary>
    public Task<ClientProcess.Result> SshAsync(string password, string? command, string? stdin = null, string user = "root", params string[] options)
    {
        List<string> args = ["-p", password, "ssh", .. SshOptions(options), "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{user}@127.0.0.1"];
        if (command is not null)
        {
            args.Add(command);
        }
        return ClientProcess.RunAsync("sshpass", args, stdin);
    }

    /// <summary>
    /// Plain ssh answering every password prompt through SSH_ASKPASS, so a client can fail several
    /// times on one connection (sshpass gives up after the first wrong answer).
    /// </summary>
    public Task<ClientProcess.Result> SshAskpassAsync(string password, string command, string user, params string[] options)
    {
        var script = Path.Combine(Root, "askpass.sh");
        File.WriteAllText(script, $"#!/bin/sh\necho '{password}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var environment = new Dictionary<string, string> { ["SSH_ASKPASS"] = script, ["SSH_ASKPASS_REQUIRE"] = "force", ["DISPLAY"] = ":0" };
        return ClientProcess.RunAsync("ssh", [.. SshOptions(options), "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{user}@127.0.0.1", command], null, 60_000, environment);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        _decky.Dispose();
    }
}
