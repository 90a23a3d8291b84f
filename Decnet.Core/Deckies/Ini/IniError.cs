using System.Text;

namespace Decnet.Core.Deckies;

/// <summary>
/// One problem found in an INI text, located as precisely as the problem allows so the UI can point
/// at the offending line.
/// </summary>
/// <param name="Line">1-based line number, or null when the problem concerns the whole text.</param>
public sealed record IniError(int? Line, string? Section, string? Key, string Message)
{
    /// <summary>Renders as <c>line 7 [web-01] mutate_interval: must be an integer</c>, leaving out unknown parts.</summary>
    public override string ToString()
    {
        var location = new StringBuilder();
        if (Line is { } line)
        {
            location.Append("line ").Append(line);
        }

        if (Section is not null)
        {
            location.Append(location.Length > 0 ? " " : "").Append('[').Append(Section).Append(']');
        }

        if (Key is not null)
        {
            location.Append(location.Length > 0 ? " " : "").Append(Key);
        }

        return location.Length > 0 ? $"{location}: {Message}" : Message;
    }
}

/// <summary>An INI text was rejected; <see cref="Errors"/> holds every problem found, not just the first.</summary>
public sealed class IniValidationException : Exception
{
    public IniValidationException(IReadOnlyList<IniError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public IniValidationException(IniError error)
        : this([error])
    {
    }

    public IReadOnlyList<IniError> Errors { get; }

    private static string Describe(IReadOnlyList<IniError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("An INI validation failure needs at least one error.", nameof(errors));
        }

        return errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} errors in the INI:\n" + string.Join("\n", errors);
    }
}
