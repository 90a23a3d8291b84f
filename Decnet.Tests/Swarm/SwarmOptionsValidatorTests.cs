using Decnet.Core.Swarm;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm;

/// <summary>The one swarm options tree is checked as a whole, every problem listed at once.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class SwarmOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(new SwarmOptionsValidator().Validate(null, new SwarmOptions()).Succeeded);
    }

    [Fact]
    public void Every_problem_of_the_tree_is_listed_with_its_key()
    {
        var options = new SwarmOptions
        {
            ControllerUrl = "http://0.0.0.0:8770",
            EnrollmentUrl = "https://0.0.0.0:6514",
            SyslogUrl = "nowhere",
            HeartbeatSeconds = 0,
            Agent = new() { RetryAttempts = 9 },
            Updates = new() { UpdaterPort = 0 },
        };

        var result = new SwarmOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Decnet:Swarm:ControllerUrl must be an https://", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Swarm:SyslogUrl must be address:port", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Swarm:HeartbeatSeconds:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Swarm:Agent:RetryAttempts:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Swarm:Updates:UpdaterPort:", StringComparison.Ordinal));
        Assert.Equal(5, failures.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(301)]
    public void The_last_seen_flush_interval_is_bounded(int seconds)
    {
        var result = new SwarmOptionsValidator().Validate(null, new SwarmOptions { LastSeenFlushSeconds = seconds });

        Assert.Equal("Decnet:Swarm:LastSeenFlushSeconds: The field LastSeenFlushSeconds must be between 1 and 300.", Assert.Single(result.Failures!));
    }

    [Fact]
    public void The_three_swarm_ports_must_differ()
    {
        var options = new SwarmOptions { EnrollmentUrl = "https://0.0.0.0:8770" };

        var result = new SwarmOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.Contains("three different ports", StringComparison.Ordinal));
    }
}
