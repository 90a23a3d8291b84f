using Decnet.Core.Deckies;

namespace Decnet.Tests.Deckies;

internal static class IniAssert
{
    public static IniValidationException Rejects(string? ini) =>
        Assert.Throws<IniValidationException>(() => DeploymentIniLoader.Load(ini));

    /// <summary>Asserts that exactly one reported error sits at this place and mentions the text.</summary>
    public static IniError HasError(IniValidationException exception, int? line, string? section, string? key, string containing)
    {
        var matches = exception.Errors
            .Where(e => e.Line == line && e.Section == section && e.Key == key)
            .Where(e => e.Message.Contains(containing, StringComparison.Ordinal))
            .ToList();
        Assert.True(matches.Count == 1,
            $"expected one error at line {line} [{section}] {key} containing '{containing}', got:\n{exception.Message}");
        Assert.Contains(matches[0].ToString(), exception.Message, StringComparison.Ordinal);
        return matches[0];
    }
}
