using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Configuration;

/// <summary>
/// Every problem found in one options section, each named by its full configuration key, so a start-up
/// that fails says at once everything the operator has to fix. Validators (<see cref="IValidateOptions{TOptions}"/>)
/// add the declared bounds of a class (its data annotations) and their own rules, then return <see cref="Result"/>.
/// </summary>
public sealed class OptionsProblems(string section)
{
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> All => _problems;

    /// <summary>The declared bounds of <paramref name="value"/> (<c>[Range]</c>, <c>[Required]</c>, <see cref="IValidatableObject"/>), under <paramref name="subsection"/>.</summary>
    public OptionsProblems Annotations(object value, string? subsection = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        var prefix = subsection is null ? section : $"{section}:{subsection}";
        foreach (var result in results)
        {
            var member = result.MemberNames.FirstOrDefault();
            _problems.Add(member is null ? $"{prefix}: {result.ErrorMessage}" : $"{prefix}:{member}: {result.ErrorMessage}");
        }
        return this;
    }

    public OptionsProblems Range(string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            _problems.Add(OutOfRange($"{section}:{key}", value, min, max));
        }
        return this;
    }

    public OptionsProblems Range(string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{section}:{key} is {value:c}; it must be between {min:c} and {max:c}."));
        }
        return this;
    }

    /// <summary>
    /// The one wording of an out-of-range value (<paramref name="fullKey"/> is the whole configuration key),
    /// for the validators that collect their problems in a list of their own.
    /// </summary>
    public static string OutOfRange(string fullKey, long value, long min, long max) =>
        string.Create(CultureInfo.InvariantCulture, $"{fullKey} is {value}; it must be between {min} and {max}.");

    public OptionsProblems Required(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(key, "is required.");
        }
        return this;
    }

    /// <summary>A problem with <paramref name="key"/> (relative to the section, e.g. <c>MaxFiles</c> or <c>Agent:RetryAttempts</c>).</summary>
    public OptionsProblems Add(string key, string problem)
    {
        _problems.Add($"{section}:{key} {problem}");
        return this;
    }

    /// <summary>A problem of the section as a whole (several keys together).</summary>
    public OptionsProblems AddToSection(string problem)
    {
        _problems.Add($"{section}: {problem}");
        return this;
    }

    public ValidateOptionsResult Result() => _problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_problems);
}
