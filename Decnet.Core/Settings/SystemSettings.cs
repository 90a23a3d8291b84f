namespace Decnet.Core.Settings;

/// <summary>Operator-editable limits and globals. A single row (Id = 1).</summary>
public sealed class SystemSettings
{
    public const int SingletonId = 1;
    public const int DefaultDeploymentLimit = 10;
    public const int MinDeploymentLimit = 1;
    public const int MaxDeploymentLimit = 500;
    public const int DefaultGlobalMutationIntervalMinutes = 30;

    public int Id { get; set; } = SingletonId;
    public int DeploymentLimit { get; set; } = DefaultDeploymentLimit;
    public int GlobalMutationIntervalMinutes { get; set; } = DefaultGlobalMutationIntervalMinutes;
    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
    public string? UpdatedBy { get; set; }
}
