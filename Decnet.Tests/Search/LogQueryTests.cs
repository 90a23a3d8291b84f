using Decnet.Core.Search;

namespace Decnet.Tests.Search;

public sealed class LogQueryTests
{
    private static LogQuery Parsed(string text)
    {
        var result = LogQuery.Parse(text);
        Assert.True(result.Succeeded, result.Error);
        return result.Query!;
    }

    private static string Failure(string text)
    {
        var result = LogQuery.Parse(text);
        Assert.False(result.Succeeded);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        return result.Error!;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"\" ''")]
    public void Blank_queries_are_empty(string? text) => Assert.True(Parsed(text!).IsEmpty);

    [Theory]
    [InlineData("decky:d1", "Decky")]
    [InlineData("service:ssh", "Service")]
    [InlineData("event:login", "EventType")]
    [InlineData("attacker:1.2.3.4", "AttackerIp")]
    [InlineData("attacker-ip:1.2.3.4", "AttackerIp")]
    [InlineData("attacker_ip:1.2.3.4", "AttackerIp")]
    [InlineData("DECKY:d1", "Decky")]
    public void Column_keys_match_their_column(string text, string column)
    {
        var term = Assert.Single(Parsed(text).Terms);
        Assert.Equal(LogTermKind.Column, term.Kind);
        Assert.Equal(column, term.Key);
        Assert.Equal(text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..], term.Value);
    }

    [Theory]
    [InlineData("user:root", "user", "root")]
    [InlineData("key$.x:1", "keyx", "1")]
    [InlineData("a.b-c:v", "abc", "v")]
    [InlineData("stored_as:file.bin", "stored_as", "file.bin")]
    [InlineData("url:http://x/y", "url", "http://x/y")]
    public void Other_keys_match_a_cleaned_json_field_and_keep_the_value_whole(string text, string key, string value)
    {
        var term = Assert.Single(Parsed(text).Terms);
        Assert.Equal(LogTermKind.Field, term.Kind);
        Assert.Equal(key, term.Key);
        Assert.Equal(value, term.Value);
    }

    [Theory]
    [InlineData(":x")]
    [InlineData("$.:x")]
    [InlineData("$.-[]:x")]
    public void Keys_empty_after_cleaning_are_rejected(string text) =>
        Assert.Contains("field name", Failure(text), StringComparison.Ordinal);

    [Fact]
    public void Plain_words_are_text_terms_and_all_terms_are_kept_in_order()
    {
        var terms = Parsed("admin decky:d1  'two words' user:\"x y\"").Terms;
        Assert.Equal(
            [new LogTerm(LogTermKind.Text, "", "admin"), new LogTerm(LogTermKind.Column, "Decky", "d1"),
             new LogTerm(LogTermKind.Text, "", "two words"), new LogTerm(LogTermKind.Field, "user", "x y")],
            terms);
    }

    [Theory]
    [InlineData("'it''s'", "its")]
    [InlineData("\"say \\\"hi\\\"\"", "say \"hi\"")]
    [InlineData("a\\ b", "a b")]
    [InlineData("'a\\b'", "a\\b")]
    [InlineData("\"a\\b\"", "a\\b")]
    [InlineData("%_\\\\", "%_\\")]
    public void Quotes_and_escapes_follow_shell_rules(string text, string word) =>
        Assert.Equal(word, Assert.Single(Parsed(text).Terms).Value);

    [Theory]
    [InlineData("'open", "single quote")]
    [InlineData("foo\"bar", "double quote")]
    [InlineData("decky:\"x", "double quote")]
    [InlineData("trailing\\", "backslash")]
    public void Unbalanced_quotes_are_reported(string text, string reason) =>
        Assert.Contains(reason, Failure(text), StringComparison.Ordinal);

    [Fact]
    public void Length_and_term_count_are_capped()
    {
        Assert.True(LogQuery.Parse(new string('a', LogQuery.MaxLength)).Succeeded);
        Assert.Contains("512", Failure(new string('a', LogQuery.MaxLength + 1)), StringComparison.Ordinal);
        Assert.Equal(20, Parsed(string.Join(' ', Enumerable.Range(0, 20).Select(i => $"t{i}"))).Terms.Count);
        Assert.Contains("at most 20", Failure(string.Join(' ', Enumerable.Range(0, 21).Select(i => $"t{i}"))), StringComparison.Ordinal);
    }

    [Fact]
    public void Clean_key_keeps_only_ascii_letters_digits_and_underscore() =>
        Assert.Equal("aZ09_", LogQuery.CleanKey("a-Z.0é9_$[]'\""));
}
