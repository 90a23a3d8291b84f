extern alias agent;

using agent::Decnet.Agent;

namespace Decnet.Tests.Agent;

/// <summary>A wrong subcommand names every subcommand the agent has.</summary>
[Trait("Category", "Unit")]
public sealed class AgentUsageTests
{
    [Theory]
    [InlineData(new string[0], "no subcommand is not a subcommand")]
    [InlineData(new[] { "server" }, "'server' is not a subcommand")]
    public void A_wrong_subcommand_lists_them_all_and_fails_with_usage(string[] args, string complaint)
    {
        var stderr = new StringWriter();

        var exit = AgentUsage.Fail(args, stderr);

        Assert.Equal(2, exit);
        var text = stderr.ToString();
        Assert.Contains(complaint, text, StringComparison.Ordinal);
        foreach (var subcommand in new[] { "serve", "forward", "updater", "honeypot" })
        {
            Assert.Contains($"decnet-agent {subcommand}", text, StringComparison.Ordinal);
        }
    }
}
