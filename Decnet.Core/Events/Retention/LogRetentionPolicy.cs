using Decnet.Core.Settings;

namespace Decnet.Core.Events.Retention;

/// <summary>How long and how many captured events the <c>logs</c> table keeps.</summary>
public sealed record LogRetentionPolicy(int Days, long MaxRows)
{
    /// <summary>The operator's values, or the defaults where none was set.</summary>
    public static LogRetentionPolicy From(SystemSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(
            settings.LogRetentionDays ?? SystemSettings.DefaultLogRetentionDays,
            settings.LogRetentionMaxRows ?? SystemSettings.DefaultLogRetentionMaxRows);
    }
}

/// <summary>One purge pass: rows removed for their age and for the row limit, and what was left.</summary>
public sealed record LogPurgeResult(DateTimeOffset At, LogRetentionPolicy Policy, long RemovedByAge, long RemovedByCount, long Remaining)
{
    public long Removed => RemovedByAge + RemovedByCount;
}
