using System.Net;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Swarm.Enrollment;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Updates;

/// <summary>One worker's updater as the fleet view shows it.</summary>
public sealed record HostReleaseInfo(
    Guid HostUuid, string HostName, string? Address, string HostStatus, bool Reachable,
    string? CurrentSha, string? PreviousSha, IReadOnlyList<ReleaseSlot> Releases, string? Detail);

/// <summary>What one host made of a push or rollback.</summary>
public sealed record HostUpdateResult(Guid HostUuid, string HostName, string Status, int? HttpStatus, string? Sha, string Detail);

public sealed record PushOutcome(string Sha, long TarballBytes, IReadOnlyList<HostUpdateResult> Results);

public static class HostUpdateStatus
{
    public const string Updated = "updated";
    public const string RolledBack = "rolled-back";
    public const string Failed = "failed";
    public const string SelfUpdated = "self-updated";
    public const string SelfFailed = "self-failed";
}

/// <summary>Which hosts a push goes to.</summary>
public sealed record PushTarget(IReadOnlyList<Guid>? HostIds, bool All, IReadOnlyList<Guid>? Exclude);

public enum PushProblem
{
    None,
    /// <summary>Neither or both of host ids / all.</summary>
    BadTarget,
    /// <summary>A named host does not exist, is decommissioned or has no updater.</summary>
    UnknownHost,
    /// <summary>The master has no worker build to ship.</summary>
    NoBuild,
}

public enum RollbackProblem
{
    None,
    UnknownHost,
    NoUpdater,
    NoPrevious,
}

/// <summary>
/// The master's remote updates: lists every worker updater with its release slots, ships the worker build
/// (<see cref="AgentBuild"/>, agent code only) to many updaters in parallel, and rolls one back.
/// </summary>
public sealed class SwarmUpdates(
    SwarmOverview overview, MasterCredentials credentials, IOptions<SwarmOptions> swarm, ILogger<SwarmUpdates> logger)
{
    private const string NoAddressYet = "no address yet (not connected since enrollment)";

    public async Task<IReadOnlyList<HostReleaseInfo>> HostsAsync(CancellationToken cancellationToken)
    {
        var hosts = await UpdatableHostsAsync(cancellationToken);
        return await Task.WhenAll(hosts.Select(h => ProbeAsync(h, cancellationToken)));
    }

    /// <summary>Builds the release once and sends it to every target (self: to /update-self only; includeSelf: /update then /update-self).</summary>
    public async Task<(PushOutcome? Outcome, PushProblem Problem, string? Detail)> PushAsync(PushTarget target, bool includeSelf, bool selfOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.All == target.HostIds is { Count: > 0 })
        {
            return (null, PushProblem.BadTarget, "Give exactly one of host_uuids (non-empty) or all=true.");
        }
        var updatable = await UpdatableHostsAsync(cancellationToken);
        List<SwarmHost> chosen;
        if (target.All)
        {
            chosen = [.. updatable];
        }
        else
        {
            var missing = target.HostIds!.Where(id => updatable.All(h => h.Id != id)).ToList();
            if (missing.Count > 0)
            {
                return (null, PushProblem.UnknownHost, $"Not an enrolled host with an updater: {string.Join(", ", missing)}.");
            }
            chosen = [.. updatable.Where(h => target.HostIds!.Contains(h.Id))];
        }
        chosen.RemoveAll(h => target.Exclude?.Contains(h.Id) == true);

        ReleasePackage release;
        try
        {
            release = await BuildReleaseAsync(cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            return (null, PushProblem.NoBuild, ex.Message);
        }
        using (release)
        {
            using var parallel = new SemaphoreSlim(swarm.Value.Updates.MaxParallelHosts);
            var results = await Task.WhenAll(chosen.Select(async host =>
            {
                await parallel.WaitAsync(cancellationToken);
                try
                {
                    return await PushOneAsync(host, release, includeSelf, selfOnly, cancellationToken);
                }
                finally
                {
                    parallel.Release();
                }
            }));
            return (new PushOutcome(release.Sha, release.Bytes, results), PushProblem.None, null);
        }
    }

    public async Task<(HostUpdateResult? Result, RollbackProblem Problem, string? Detail)> RollbackAsync(Guid hostId, CancellationToken cancellationToken)
    {
        var host = await overview.HostAsync(hostId, cancellationToken);
        if (host is null || host.Status == SwarmHostStatus.Decommissioned)
        {
            return (null, RollbackProblem.UnknownHost, $"No enrolled host {hostId}.");
        }
        if (CertificateFingerprint(host) is null || string.IsNullOrWhiteSpace(host.Address))
        {
            return (null, RollbackProblem.NoUpdater, $"{host.Name} has no updater (it was enrolled without one, or has no address yet).");
        }
        using var client = ClientFor(host);
        try
        {
            var answer = await client.RollbackAsync(swarm.Value.Updates.ControlTimeout, cancellationToken);
            if (answer.Status == HttpStatusCode.NotFound)
            {
                return (null, RollbackProblem.NoPrevious, $"{host.Name}: {answer.Detail}");
            }
            var ok = answer.Status == HttpStatusCode.OK;
            logger.LogInformation("Rollback on {Host}: {Status}", host.Name, (int)answer.Status);
            return (new HostUpdateResult(host.Id, host.Name, ok ? HostUpdateStatus.RolledBack : HostUpdateStatus.Failed, (int)answer.Status, Sha(answer), answer.Detail), RollbackProblem.None, null);
        }
        catch (UpdaterCallException ex)
        {
            return (new HostUpdateResult(host.Id, host.Name, HostUpdateStatus.Failed, null, null, ex.Reason), RollbackProblem.None, null);
        }
    }

    /// <summary>The worker build as a release tarball in a temp file (deleted when the package is disposed).</summary>
    /// <exception cref="InvalidOperationException">No worker build is available.</exception>
    public async Task<ReleasePackage> BuildReleaseAsync(CancellationToken cancellationToken)
    {
        var build = AgentBuild.Locate(swarm.Value.AgentBuildDirectory);
        var path = Path.Combine(Path.GetTempPath(), $"decnet-release-{Guid.NewGuid():N}.tar.gz");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            var sha = await ReleaseArchive.WriteAsync(AgentBuild.Files(build), file, cancellationToken);
            return new ReleasePackage(path, sha, file.Length);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>The client for one host's updater (callers dispose it).</summary>
    public UpdaterClient ClientFor(SwarmHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var baseAddress = AgentClientFactory.BaseAddress(host.Address!, swarm.Value.Updates.UpdaterPort);
        return new UpdaterClient(host.Name, baseAddress, CertificateFingerprint(host)!, credentials.Identity, credentials.Trust, swarm.Value.Updates.ConnectTimeout);
    }

    private async Task<HostUpdateResult> PushOneAsync(SwarmHost host, ReleasePackage release, bool includeSelf, bool selfOnly, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(host.Address))
        {
            // Enrolled with an updater but never connected: nowhere to send it, and the rest still go.
            return new HostUpdateResult(host.Id, host.Name, selfOnly ? HostUpdateStatus.SelfFailed : HostUpdateStatus.Failed, null, release.Sha, NoAddressYet);
        }
        using var client = ClientFor(host);
        var o = swarm.Value.Updates;
        HostUpdateResult result;
        if (!selfOnly)
        {
            try
            {
                var answer = await client.UpdateAsync(release, self: false, o.UpdateTimeout, cancellationToken);
                var status = answer.Status switch
                {
                    HttpStatusCode.OK => HostUpdateStatus.Updated,
                    HttpStatusCode.Conflict when answer.RolledBack => HostUpdateStatus.RolledBack,
                    _ => HostUpdateStatus.Failed,
                };
                result = new HostUpdateResult(host.Id, host.Name, status, (int)answer.Status, release.Sha, answer.Detail);
            }
            catch (UpdaterCallException ex)
            {
                result = new HostUpdateResult(host.Id, host.Name, HostUpdateStatus.Failed, null, release.Sha, ex.Reason);
            }
            logger.LogInformation("Update of {Host} to {Sha}: {Status}", host.Name, release.Sha, result.Status);
            if (!includeSelf || result.Status != HostUpdateStatus.Updated)
            {
                return result;
            }
        }
        try
        {
            var answer = await client.UpdateAsync(release, self: true, o.ControlTimeout, cancellationToken);
            var ok = answer.Status == HttpStatusCode.OK;
            return new HostUpdateResult(host.Id, host.Name, ok ? HostUpdateStatus.SelfUpdated : HostUpdateStatus.SelfFailed, (int)answer.Status, release.Sha, answer.Detail);
        }
        catch (UpdaterCallException ex) when (ex.Error == HttpRequestError.ResponseEnded)
        {
            // The updater restarting under the answer counts as done, as it did upstream.
            return new HostUpdateResult(host.Id, host.Name, HostUpdateStatus.SelfUpdated, null, release.Sha, "the updater dropped the connection while restarting");
        }
        catch (UpdaterCallException ex)
        {
            return new HostUpdateResult(host.Id, host.Name, HostUpdateStatus.SelfFailed, null, release.Sha, ex.Reason);
        }
    }

    private async Task<HostReleaseInfo> ProbeAsync(SwarmHost host, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(host.Address))
        {
            return new HostReleaseInfo(host.Id, host.Name, null, host.Status, false, null, null, [], NoAddressYet);
        }
        using var client = ClientFor(host);
        try
        {
            var health = await client.HealthAsync(swarm.Value.Updates.ProbeTimeout, cancellationToken);
            string? ShaOf(string slot) => health.Releases.FirstOrDefault(r => r.Slot == slot)?.Sha;
            return new HostReleaseInfo(host.Id, host.Name, host.Address, host.Status, true,
                ShaOf(UpdaterProtocol.Active), ShaOf(UpdaterProtocol.Previous), health.Releases, null);
        }
        catch (UpdaterCallException ex)
        {
            return new HostReleaseInfo(host.Id, host.Name, host.Address, host.Status, false, null, null, [], ex.Reason);
        }
    }

    private async Task<List<SwarmHost>> UpdatableHostsAsync(CancellationToken cancellationToken) =>
        [.. (await overview.HostRecordsAsync(null, withShards: false, cancellationToken))
            .Where(h => h.Status != SwarmHostStatus.Decommissioned && CertificateFingerprint(h) is not null)];

    private static string? CertificateFingerprint(SwarmHost host) => Pki.CertificateFingerprint.Normalize(host.UpdaterCertFingerprint);

    private static string? Sha(UpdaterAnswer answer) =>
        answer.Body.ValueKind == System.Text.Json.JsonValueKind.Object && answer.Body.TryGetProperty("sha", out var sha) && sha.ValueKind == System.Text.Json.JsonValueKind.String ? sha.GetString() : null;
}
