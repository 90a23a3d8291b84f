namespace Decnet.Core.Settings;

/// <summary>Operator-editable limits and globals. A single row (Id = 1).</summary>
public sealed class SystemSettings
{
    public const int SingletonId = 1;
    public const int DefaultDeploymentLimit = 10;
    public const int MinDeploymentLimit = 1;
    public const int MaxDeploymentLimit = 500;
    public const int DefaultGlobalMutationIntervalMinutes = 30;

    public const int DefaultLogRetentionDays = 90;
    public const int MinLogRetentionDays = 1;
    public const int MaxLogRetentionDays = 3650;
    public const long DefaultLogRetentionMaxRows = 5_000_000;
    public const long MinLogRetentionMaxRows = 1_000;
    public const long MaxLogRetentionMaxRows = 1_000_000_000;

    public int Id { get; set; } = SingletonId;
    public int DeploymentLimit { get; set; } = DefaultDeploymentLimit;
    public int GlobalMutationIntervalMinutes { get; set; } = DefaultGlobalMutationIntervalMinutes;

    /// <summary>Days a captured event is kept in <c>logs</c>; null until an operator sets it (then <see cref="DefaultLogRetentionDays"/>).</summary>
    public int? LogRetentionDays { get; set; }

    /// <summary>Rows <c>logs</c> may hold; the oldest stored go first. Null: <see cref="DefaultLogRetentionMaxRows"/>.</summary>
    public long? LogRetentionMaxRows { get; set; }

    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
    public string? UpdatedBy { get; set; }
}
