using Decnet.Core.Configuration;
using Decnet.Core.Honeypots.Artifacts;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Host-wide bounds of the honeypot services, section <c>Decnet:Honeypots</c>: who may hold how many
/// sessions (<see cref="Admission"/>) and how much attackers may leave on disk (<see cref="Artifacts"/>).
/// </summary>
public sealed class HoneypotLimitsOptions
{
    public const string Section = "Decnet:Honeypots";

    public SessionAdmissionOptions Admission { get; set; } = new();

    public ArtifactQuotaOptions Artifacts { get; set; } = new();
}

/// <summary>Checks every bound at start and reports all the wrong ones at once, each with its key.</summary>
public sealed class HoneypotLimitsOptionsValidator : IValidateOptions<HoneypotLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, HoneypotLimitsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var admission = options.Admission ?? new SessionAdmissionOptions();
        var prefix = HoneypotLimitsOptions.Section + ":Admission:";
        Range(errors, prefix + nameof(admission.MaxSessionsPerSourcePerDecky), admission.MaxSessionsPerSourcePerDecky, 1, 100_000);
        Range(errors, prefix + nameof(admission.MaxSessionsPerSourcePerHost), admission.MaxSessionsPerSourcePerHost, 1, 100_000);
        Range(errors, prefix + nameof(admission.MaxSessionsPerDecky), admission.MaxSessionsPerDecky, 1, 100_000);
        Range(errors, prefix + nameof(admission.MaxSessionsPerHost), admission.MaxSessionsPerHost, 1, 1_000_000);
        if (admission.MaxSessionsPerSourcePerDecky > admission.MaxSessionsPerSourcePerHost)
        {
            errors.Add($"{prefix}MaxSessionsPerSourcePerDecky ({admission.MaxSessionsPerSourcePerDecky}) cannot exceed MaxSessionsPerSourcePerHost ({admission.MaxSessionsPerSourcePerHost}).");
        }
        if (admission.MaxSessionsPerSourcePerDecky > admission.MaxSessionsPerDecky)
        {
            errors.Add($"{prefix}MaxSessionsPerSourcePerDecky ({admission.MaxSessionsPerSourcePerDecky}) cannot exceed MaxSessionsPerDecky ({admission.MaxSessionsPerDecky}).");
        }
        if (admission.MaxSessionsPerDecky > admission.MaxSessionsPerHost)
        {
            errors.Add($"{prefix}MaxSessionsPerDecky ({admission.MaxSessionsPerDecky}) cannot exceed MaxSessionsPerHost ({admission.MaxSessionsPerHost}).");
        }

        var artifacts = options.Artifacts ?? new ArtifactQuotaOptions();
        prefix = HoneypotLimitsOptions.Section + ":Artifacts:";
        Range(errors, prefix + nameof(artifacts.MaxBytesPerDecky), artifacts.MaxBytesPerDecky, 0, long.MaxValue);
        Range(errors, prefix + nameof(artifacts.MaxBytesTotal), artifacts.MaxBytesTotal, 0, long.MaxValue);
        Range(errors, prefix + nameof(artifacts.MaxFilesPerSession), artifacts.MaxFilesPerSession, 0, 100_000);
        if (artifacts.MaxBytesPerDecky > artifacts.MaxBytesTotal)
        {
            errors.Add($"{prefix}MaxBytesPerDecky ({artifacts.MaxBytesPerDecky}) cannot exceed MaxBytesTotal ({artifacts.MaxBytesTotal}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            errors.Add(OptionsProblems.OutOfRange(key, value, min, max));
        }
    }
}
