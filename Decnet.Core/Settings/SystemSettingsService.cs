using Decnet.Core.Audit;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Settings;

/// <summary>Reads and writes the operator settings row. Reads are served from memory until the next write.</summary>
public sealed class SystemSettingsService(IDbContextFactory<DecnetDbContext> dbFactory, AuditTrail audit) : IFleetSettings
{
    private volatile SystemSettings? _current;

    public event Action<SystemSettings>? Changed;

    public async Task<SystemSettings> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current)
        {
            return current;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var settings = await db.SystemSettings.AsNoTracking().FirstOrDefaultAsync(s => s.Id == SystemSettings.SingletonId, cancellationToken)
            ?? new SystemSettings();
        _current = settings;
        return settings;
    }

    public async Task<FleetSettings> GetFleetSettingsAsync(CancellationToken cancellationToken)
    {
        var settings = await GetAsync(cancellationToken);
        return new FleetSettings(settings.DeploymentLimit, settings.GlobalMutationIntervalMinutes);
    }

    public async Task<SettingsUpdate> SetDeploymentLimitAsync(string actor, int limit, CancellationToken cancellationToken)
    {
        if (limit is < SystemSettings.MinDeploymentLimit or > SystemSettings.MaxDeploymentLimit)
        {
            return SettingsUpdate.Invalid($"Deployment limit must be between {SystemSettings.MinDeploymentLimit} and {SystemSettings.MaxDeploymentLimit}.");
        }
        var updated = await UpdateAsync(actor, s => s.DeploymentLimit = limit, cancellationToken);
        await audit.RecordAsync(actor, "config.deployment_limit", null, limit.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        return SettingsUpdate.Ok(updated);
    }

    public async Task<SettingsUpdate> SetGlobalMutationIntervalAsync(string actor, string interval, CancellationToken cancellationToken)
    {
        if (!MutationInterval.TryParse(interval, out var parsed, out var error))
        {
            return SettingsUpdate.Invalid(error);
        }
        var minutes = parsed.TotalMinutes;
        var updated = await UpdateAsync(actor, s => s.GlobalMutationIntervalMinutes = minutes, cancellationToken);
        await audit.RecordAsync(actor, "config.global_mutation_interval", null, MutationInterval.Format(minutes), cancellationToken);
        return SettingsUpdate.Ok(updated);
    }

    public async Task<SettingsUpdate> SetLogRetentionAsync(string actor, int days, long maxRows, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        if (days is < SystemSettings.MinLogRetentionDays or > SystemSettings.MaxLogRetentionDays)
        {
            errors.Add($"Log retention must be between {SystemSettings.MinLogRetentionDays} and {SystemSettings.MaxLogRetentionDays} days.");
        }
        if (maxRows is < SystemSettings.MinLogRetentionMaxRows or > SystemSettings.MaxLogRetentionMaxRows)
        {
            errors.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Maximum log rows must be between {SystemSettings.MinLogRetentionMaxRows:N0} and {SystemSettings.MaxLogRetentionMaxRows:N0}."));
        }
        if (errors.Count > 0)
        {
            return SettingsUpdate.Invalid(string.Join(" ", errors));
        }
        var updated = await UpdateAsync(actor, s =>
        {
            s.LogRetentionDays = days;
            s.LogRetentionMaxRows = maxRows;
        }, cancellationToken);
        await audit.RecordAsync(actor, "config.log_retention", null,
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{days} days, {maxRows} rows"), cancellationToken);
        return SettingsUpdate.Ok(updated);
    }

    private async Task<SystemSettings> UpdateAsync(string actor, Action<SystemSettings> change, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var settings = await db.SystemSettings.FirstOrDefaultAsync(s => s.Id == SystemSettings.SingletonId, cancellationToken);
        if (settings is null)
        {
            settings = new SystemSettings();
            db.SystemSettings.Add(settings);
        }
        change(settings);
        settings.UpdatedAt = DateTime.UtcNow;
        settings.UpdatedBy = actor;
        await db.SaveChangesAsync(cancellationToken);
        _current = settings;
        Changed?.Invoke(settings);
        return settings;
    }
}

public sealed record SettingsUpdate(bool Succeeded, string? Error, SystemSettings? Settings)
{
    public static SettingsUpdate Ok(SystemSettings settings) => new(true, null, settings);

    public static SettingsUpdate Invalid(string error) => new(false, error, null);
}
