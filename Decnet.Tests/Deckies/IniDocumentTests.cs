using System.Text;
using Decnet.Core.Deckies;

namespace Decnet.Tests.Deckies;

public sealed class IniDocumentTests
{
    [Fact]
    public void Reads_sections_and_both_separators_with_line_numbers()
    {
        var document = IniDocument.Parse("""
            [general]
            net = 10.0.0.0/24
            gw: 10.0.0.1
            """);

        var section = Assert.Single(document.Sections);
        Assert.Equal("general", section.Name);
        Assert.Equal(1, section.Line);
        Assert.Equal(new IniEntry("net", "10.0.0.0/24", 2), section.Find("net"));
        Assert.Equal(new IniEntry("gw", "10.0.0.1", 3), section.Find("GW"));
    }

    [Fact]
    public void Skips_comment_lines_and_strips_trailing_semicolon_comments()
    {
        var document = IniDocument.Parse("""
            ; a comment
            # another comment
            [web]
            amount = 3            ; becomes web-01..03
            url = http://x/a;b
            """);

        var section = Assert.Single(document.Sections);
        Assert.Equal("3", section.Find("amount")!.Value);
        Assert.Equal("http://x/a;b", section.Find("url")!.Value);
        Assert.Equal(4, section.Find("amount")!.Line);
    }

    [Fact]
    public void Comments_after_a_section_header_are_ignored()
    {
        var document = IniDocument.Parse("[web] ; the front door\nip = 1\n[db]   # data\n");

        Assert.Equal(["web", "db"], document.Sections.Select(s => s.Name));
    }

    [Fact]
    public void Allows_keys_without_values()
    {
        var section = Assert.Single(IniDocument.Parse("[web]\nflag\nempty =\n").Sections);

        Assert.Null(section.Find("flag")!.Value);
        Assert.Equal("", section.Find("empty")!.Value);
    }

    [Fact]
    public void Duplicate_keys_are_kept_and_the_last_one_wins()
    {
        var section = Assert.Single(IniDocument.Parse("[web]\nip = 10.0.0.5\nip = 10.0.0.6\n").Sections);

        Assert.Equal(2, section.Entries.Count);
        Assert.Equal(new IniEntry("ip", "10.0.0.6", 3), section.Find("ip"));
    }

    [Fact]
    public void FindAny_returns_the_spelling_written_last()
    {
        var section = Assert.Single(IniDocument.Parse("[web]\nnmap-os = bsd\nnmap_os = cisco\n").Sections);

        Assert.Equal("cisco", section.FindAny("nmap_os", "nmap-os")!.Value);
    }

    [Theory]
    [InlineData("[a]\r\nx = 1\r\n[b]\r\ny = 2\r\n")]
    [InlineData("[a]\rx = 1\r[b]\ry = 2\r")]
    [InlineData("[a]\nx = 1\n[b]\ny = 2\n")]
    public void Normalises_every_line_ending_to_the_same_line_numbers(string text)
    {
        var document = IniDocument.Parse(text);

        Assert.Equal([1, 3], document.Sections.Select(s => s.Line));
        Assert.Equal(new IniEntry("y", "2", 4), document.Sections[1].Find("y"));
    }

    [Fact]
    public void Repeated_section_headers_stay_separate()
    {
        var document = IniDocument.Parse("[web]\nip = 1\n[web]\nip = 2\n");

        Assert.Equal(2, document.Sections.Count);
        Assert.All(document.Sections, s => Assert.Equal("web", s.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t\n")]
    [InlineData(null)]
    public void Blank_text_is_rejected_as_empty(string? text)
    {
        var exception = Assert.Throws<IniValidationException>(() => IniDocument.Parse(text));

        var error = Assert.Single(exception.Errors);
        Assert.Equal(new IniError(null, null, null, "INI content is empty"), error);
    }

    [Fact]
    public void Text_over_512_KiB_in_utf8_bytes_is_rejected()
    {
        // 200,000 three-byte characters: under the limit in chars, over it in bytes.
        var text = "[a]\nx = " + new string('€', 200_000);
        Assert.True(text.Length < IniDocument.MaxBytes);

        var exception = Assert.Throws<IniValidationException>(() => IniDocument.Parse(text));

        var error = Assert.Single(exception.Errors);
        Assert.Null(error.Line);
        Assert.Contains("512 KiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_of_exactly_512_KiB_is_accepted()
    {
        var head = "[a]\nx = ";
        var text = head + new string('y', IniDocument.MaxBytes - Encoding.UTF8.GetByteCount(head));

        var document = IniDocument.Parse(text);

        Assert.Single(document.Sections);
    }

    [Fact]
    public void Garbage_text_reports_the_line_and_the_missing_section()
    {
        var exception = Assert.Throws<IniValidationException>(() => IniDocument.Parse("hello world\nthis is = not ini\n"));

        Assert.Contains(exception.Errors, e => e is { Line: 1, Key: "hello world" } && e.Message.Contains("outside of any section", StringComparison.Ordinal));
        Assert.Contains(exception.Errors, e => e is { Line: 2, Key: "this is" });
        Assert.Contains(exception.Errors, e => e.Line is null && e.Message.Contains("at least one section", StringComparison.Ordinal));
    }

    [Fact]
    public void Broken_headers_and_keyless_lines_are_all_reported()
    {
        var (document, errors) = IniDocument.Read("[ok]\n[broken\n= value\n[]\n[next] trailing\n");

        Assert.Equal(["ok"], document.Sections.Select(s => s.Name));
        Assert.Equal([2, 3, 4, 5], errors.Select(e => e.Line));
        Assert.Contains("closing ']'", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal("ok", errors[1].Section);
    }

    [Fact]
    public void Error_text_names_line_section_and_key()
    {
        var error = new IniError(7, "web-01", "mutate_interval", "must be an integer");

        Assert.Equal("line 7 [web-01] mutate_interval: must be an integer", error.ToString());
        Assert.Equal("INI content is empty", new IniError(null, null, null, "INI content is empty").ToString());
    }

    [Fact]
    public void Exception_message_lists_every_error()
    {
        var exception = new IniValidationException(
        [
            new IniError(3, "a", "ip", "bad"),
            new IniError(7, "web-01", "mutate_interval", "must be an integer"),
        ]);

        Assert.StartsWith("2 errors", exception.Message, StringComparison.Ordinal);
        Assert.Contains("line 3 [a] ip: bad", exception.Message, StringComparison.Ordinal);
        Assert.Contains("line 7 [web-01] mutate_interval: must be an integer", exception.Message, StringComparison.Ordinal);
    }
}
