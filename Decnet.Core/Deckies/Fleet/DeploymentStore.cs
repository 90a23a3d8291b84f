using System.Text.Json;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Deckies.Fleet;

/// <summary>
/// The deployment as stored: the one source of truth for which deckies exist. A save replaces the
/// whole decky set in one transaction.
/// </summary>
public sealed class DeploymentStore(IDbContextFactory<DecnetDbContext> dbFactory)
{
    public async Task<DecnetConfig?> LoadAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deployment = await db.Deployments.AsNoTracking().Include(d => d.Deckies)
            .FirstOrDefaultAsync(d => d.Id == DeploymentRecord.CurrentId, cancellationToken);
        if (deployment is null || deployment.Deckies.Count == 0)
        {
            return null;
        }
        return new DecnetConfig
        {
            Mode = deployment.Mode == "swarm" ? DeploymentMode.Swarm : DeploymentMode.Unihost,
            Interface = deployment.Interface,
            Subnet = deployment.Subnet,
            Gateway = deployment.Gateway,
            Ipvlan = deployment.Ipvlan,
            MutateInterval = deployment.MutateIntervalMinutes,
            Deckies = deployment.Deckies.OrderBy(d => d.Name, StringComparer.Ordinal).Select(ToConfig).ToList(),
        };
    }

    public async Task SaveAsync(DecnetConfig deployment, string? iniText, string actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Deckies.ExecuteDeleteAsync(cancellationToken);
        var record = await db.Deployments.FirstOrDefaultAsync(d => d.Id == DeploymentRecord.CurrentId, cancellationToken);
        if (record is null)
        {
            record = new DeploymentRecord();
            db.Deployments.Add(record);
        }
        record.Mode = deployment.Mode == DeploymentMode.Swarm ? "swarm" : "unihost";
        record.Interface = deployment.Interface;
        record.Subnet = deployment.Subnet;
        record.Gateway = deployment.Gateway;
        record.Ipvlan = deployment.Ipvlan;
        record.MutateIntervalMinutes = deployment.MutateInterval;
        record.IniText = iniText;
        record.DeployedAt = DateTime.UtcNow;
        record.DeployedBy = actor;
        db.Deckies.AddRange(deployment.Deckies.Select(ToRecord));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Writes one decky's changed fields (mutation, interval); false when it is not deployed.</summary>
    public async Task<bool> UpdateDeckyAsync(DeckyConfig decky, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var record = await db.Deckies.FirstOrDefaultAsync(d => d.Name == decky.Name, cancellationToken);
        if (record is null)
        {
            return false;
        }
        var updated = ToRecord(decky);
        record.Services = updated.Services;
        record.ServiceConfig = updated.ServiceConfig;
        record.CustomServices = updated.CustomServices;
        record.Hostname = updated.Hostname;
        record.MutateIntervalMinutes = updated.MutateIntervalMinutes;
        record.LastMutated = updated.LastMutated;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RemoveDeckyAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Deckies.Where(d => d.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Deployments.ExecuteDeleteAsync(cancellationToken);
    }

    private static DeckyConfig ToConfig(DeckyRecord record) => new()
    {
        Name = record.Name,
        Ip = record.Ip,
        Hostname = record.Hostname,
        Distro = record.Distro,
        BaseImage = record.BaseImage,
        BuildBase = record.BuildBase,
        Archetype = record.Archetype,
        Services = JsonSerializer.Deserialize<List<string>>(record.Services) ?? [],
        ServiceConfig = Personas.Copy(JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(record.ServiceConfig)?
            .ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, string>)p.Value) ?? []),
        CustomServices = JsonSerializer.Deserialize<List<CustomService>>(record.CustomServices, DeckyConfigJson.Options) ?? [],
        NmapOs = record.NmapOs,
        MutateInterval = record.MutateIntervalMinutes,
        LastMutated = record.LastMutated,
        HostUuid = record.HostId,
    };

    private static DeckyRecord ToRecord(DeckyConfig decky) => new()
    {
        Name = decky.Name,
        Ip = decky.Ip,
        Hostname = decky.Hostname,
        Distro = decky.Distro,
        BaseImage = decky.BaseImage,
        BuildBase = decky.BuildBase,
        Archetype = decky.Archetype,
        Services = JsonSerializer.Serialize(decky.Services),
        ServiceConfig = JsonSerializer.Serialize(decky.ServiceConfig),
        CustomServices = JsonSerializer.Serialize(decky.CustomServices, DeckyConfigJson.Options),
        NmapOs = decky.NmapOs,
        MutateIntervalMinutes = decky.MutateInterval,
        LastMutated = decky.LastMutated,
        HostId = decky.HostUuid,
    };
}
