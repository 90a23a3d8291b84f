using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Controls.Replay;

namespace Decnet.Tests.Recordings;

[Trait("Category", TestCategories.Unit)]
public sealed class TerminalScreenTests
{
    private static string Render(string output, int width = 40, int height = 5)
    {
        var screen = new TerminalScreen(width, height);
        screen.Write(output);
        return screen.Text;
    }

    [Fact]
    public void Line_editing_as_the_decoy_shell_echoes_it_ends_as_the_typed_line()
    {
        Assert.Equal("$ ls -la\nout", Render("$ lx\b \bs -la\r\nout"));
    }

    [Fact]
    public void Carriage_return_overwrites_and_erase_in_line_clears_the_rest()
    {
        Assert.Equal("abXYef", Render("abcdef\r\u001b[2CXY"));
        Assert.Equal("ab", Render("abcdef\r\u001b[2C\u001b[K"));
    }

    [Fact]
    public void Clear_screen_leaves_only_what_follows_and_colours_are_dropped()
    {
        var text = Render("old line\r\n$ \u001b[H\u001b[2J\u001b[1;32mroot@gate\u001b[0m:~# ");
        Assert.DoesNotContain("old line", text, StringComparison.Ordinal);
        Assert.Equal("root@gate:~#", text.Trim());
    }

    [Fact]
    public void Long_lines_wrap_at_the_width_and_only_the_last_rows_are_visible()
    {
        Assert.Equal("0123456789\nabc", Render("0123456789abc", width: 10));
        Assert.Equal("3\n4", Render("1\r\n2\r\n3\r\n4", height: 2));
    }

    [Fact]
    public void Window_titles_and_unknown_sequences_never_reach_the_text()
    {
        Assert.Equal("ab", Render("a\u001b]0;evil title\u0007\u001b(Bb\u0001"));
    }

    [Fact]
    public void Scrollback_keeps_what_scrolled_off_the_visible_rows()
    {
        var screen = new TerminalScreen(40, 2);
        screen.Write("1\r\n2\r\n3\r\n$ ");

        Assert.Equal("3\n$", screen.Text);
        Assert.Equal("1\n2\n3\n$", screen.Scrollback);
    }
}
