using Decnet.Core.Honeypots.Http;

namespace Decnet.Tests.Honeypots.Http;

public sealed class UrlQueryTests
{
    [Fact]
    public void Reads_pairs_as_a_web_server_does()
    {
        var query = UrlQuery.Parse("?log=admin&PWD=p%40ss+word&cmd=ls&cmd=id&flag&=orphan&&bad=%zz%E2%82");

        Assert.Equal("admin", query["log"].ToString());
        Assert.Equal("p@ss word", query["pwd"].ToString());
        Assert.Equal(["ls", "id"], query["cmd"].ToArray());
        Assert.Equal(string.Empty, query["flag"].ToString());
        Assert.Equal("orphan", query[string.Empty].ToString());
        // A broken escape is kept as the attacker sent it rather than failing the request.
        Assert.StartsWith("%zz", query["bad"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_and_missing_text_give_no_pairs()
    {
        Assert.Empty(UrlQuery.Parse(null));
        Assert.Empty(UrlQuery.Parse(""));
        Assert.Empty(UrlQuery.Parse("?"));
    }
}
