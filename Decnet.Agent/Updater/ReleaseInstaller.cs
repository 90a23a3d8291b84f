using System.Diagnostics;
using Decnet.Core.Swarm.Updates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Updater;

/// <summary>What an update, self-update or rollback came to.</summary>
public enum InstallOutcome
{
    Updated,
    SelfUpdateScheduled,
    RolledBack,
    Busy,
    Rejected,
    NoPrevious,
    /// <summary>The release failed its health probe and the previous one is back and healthy.</summary>
    FailedRolledBack,
    /// <summary>The release failed and so did the way back.</summary>
    Failed,
}

public sealed record InstallResult(InstallOutcome Outcome, string Detail, string? Sha = null);

/// <summary>
/// The updater's one-at-a-time release operations: stage → promote → restart the agent → probe, with
/// the swap back when the new release does not answer; rollback; and the updater's own update.
/// </summary>
public sealed class ReleaseInstaller(
    ReleaseTree tree, AgentSupervisor supervisor, AgentProbe probe, UpdaterSettings settings,
    IHostApplicationLifetime lifetime, ILogger<ReleaseInstaller> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<InstallResult> UpdateAsync(Stream tarball, string sha, CancellationToken cancellationToken)
    {
        if (!_gate.Wait(0, CancellationToken.None))
        {
            return Busy();
        }
        try
        {
            try
            {
                await tree.StageAsync(tarball, sha, cancellationToken);
            }
            catch (ReleaseRejectedException ex)
            {
                return new InstallResult(InstallOutcome.Rejected, ex.Message);
            }
            tree.Promote();
            logger.LogInformation("Release {Sha} installed; restarting the agent", sha);
            if (await RestartHealthyAsync())
            {
                return new InstallResult(InstallOutcome.Updated, $"release {sha} is active and the agent answers /health", sha);
            }
            logger.LogWarning("Release {Sha}: the agent did not answer /health; rolling back", sha);
            if (!tree.HasPrevious)
            {
                return new InstallResult(InstallOutcome.Failed, $"the agent of release {sha} did not answer /health and there is no previous release to go back to", sha);
            }
            tree.Swap();
            return await RestartHealthyAsync()
                ? new InstallResult(InstallOutcome.FailedRolledBack, $"the agent of release {sha} did not answer /health; the previous release is active again", sha)
                : new InstallResult(InstallOutcome.Failed, $"the agent of release {sha} did not answer /health, and neither did the previous release after the rollback", sha);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<InstallResult> RollbackAsync()
    {
        if (!_gate.Wait(0, CancellationToken.None))
        {
            return Busy();
        }
        try
        {
            if (!tree.HasPrevious)
            {
                return new InstallResult(InstallOutcome.NoPrevious, "there is no previous release to roll back to");
            }
            tree.Swap();
            var sha = tree.ActiveSha;
            return await RestartHealthyAsync()
                ? new InstallResult(InstallOutcome.RolledBack, "the previous release is active and the agent answers /health", sha)
                : new InstallResult(InstallOutcome.Failed, "the previous release is active but its agent did not answer /health", sha);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Installs the release for the updater itself (the agent and the updater share one build): unpacked
    /// and promoted unless it is already active, no health probe, no rollback; then the updater restarts
    /// a second later, after the answer is out.
    /// </summary>
    public async Task<InstallResult> UpdateSelfAsync(Stream tarball, string sha, CancellationToken cancellationToken)
    {
        if (!_gate.Wait(0, CancellationToken.None))
        {
            return Busy();
        }
        try
        {
            var detail = $"release {sha} was already active; the updater restarts into it";
            if (!string.Equals(tree.ActiveSha, sha, StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    await tree.StageAsync(tarball, sha, cancellationToken);
                }
                catch (ReleaseRejectedException ex)
                {
                    return new InstallResult(InstallOutcome.Rejected, ex.Message);
                }
                tree.Promote();
                detail = $"release {sha} is active; the updater restarts into it";
            }
            ScheduleSelfRestart();
            return new InstallResult(InstallOutcome.SelfUpdateScheduled, detail, sha);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> RestartHealthyAsync()
    {
        try
        {
            await supervisor.RestartAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            logger.LogError("Restarting the agent failed: {Reason}", ex.Message);
            return false;
        }
        return await probe.IsHealthyAsync(CancellationToken.None);
    }

    private void ScheduleSelfRestart() => _ = Task.Run(async () =>
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        try
        {
            if (settings.Restart == RestartMode.Systemd)
            {
                await AgentSupervisor.SystemctlAsync("restart", "decnet-updater", CancellationToken.None);
                return;
            }
            // Without systemd: a fresh updater from current/ takes over once this one has let go of the port.
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = settings.InstallDirectory };
            start.ArgumentList.Add(Path.Combine(settings.CurrentLink, "Decnet.Agent.dll"));
            start.ArgumentList.Add("updater");
            foreach (var argument in settings.Arguments)
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment[UpdaterCommand.WaitForPidVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var successor = Process.Start(start);
            logger.LogInformation("Updater restarting into {Current} (pid {Pid})", settings.CurrentLink, successor?.Id);
            lifetime.StopApplication();
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            logger.LogError("The updater could not restart itself: {Reason}", ex.Message);
        }
    });

    private static InstallResult Busy() => new(InstallOutcome.Busy, "another update or rollback is in progress");
}
