using Decnet.Core.Text;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Web.Security;

[Trait("Category", TestCategories.Unit)]
public sealed class UntrustedTextTests
{
    [Theory]
    [InlineData("admin", "admin")]
    [InlineData("a\r\nb", @"a\u000D\u000Ab")]
    [InlineData("tab\there", @"tab\u0009here")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData(@"fake\u000A", @"fake\\u000A")]
    [InlineData("rtl\u202Eexe.txt", @"rtl\u202Eexe.txt")]
    [InlineData("zero\u200Bwidth", @"zero\u200Bwidth")]
    [InlineData("line\u2028sep", @"line\u2028sep")]
    [InlineData("nul\0", @"nul\u0000")]
    [InlineData("dé😀jà", "dé😀jà")]
    public void Log_text_escapes_every_character_that_could_break_or_hide_a_line(string input, string expected) =>
        Assert.Equal(expected, UntrustedText.ForLog(input, 100));

    [Fact]
    public void Log_text_is_cut_at_its_limit_and_says_how_much_was_dropped()
    {
        Assert.Equal("abc…(+3 chars)", UntrustedText.ForLog("abcdef", 3));
        Assert.Equal(@"\uD83D", UntrustedText.ForLog("😀x", 1)[..6]);
    }

    [Theory]
    [InlineData("root:toor", "root:toor")]
    [InlineData("root:pass\nrm -rf /\n", "root:passrm -rf /")]
    [InlineData("user\u001b[31m:pw", "user[31m:pw")]
    [InlineData("a\u202Eb\u2066c\u200Fd", "abcd")]
    [InlineData("émoji😀", "émoji😀")]
    public void Clipboard_text_loses_control_and_invisible_characters_only(string input, string expected) =>
        Assert.Equal(expected, UntrustedText.StripUnsafe(input));

    [Fact]
    public void A_lone_surrogate_is_unsafe_while_a_pair_is_kept()
    {
        // Built at run time: attribute arguments cannot carry a lone surrogate.
        var lone = "lone" + (char)0xD800 + "surrogate";
        Assert.Equal("lonesurrogate", UntrustedText.StripUnsafe(lone));
        Assert.Equal(@"lone\uD800surrogate", UntrustedText.ForLog(lone, 100));
    }
}
