using Decnet.Core.Events.Collection;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Events.Collection;

public sealed class FileIngestOptionsValidatorTests
{
    [Fact]
    public void Every_problem_with_the_spool_files_is_listed_at_once()
    {
        var options = new FileIngestOptions
        {
            Files =
            [
                new IngestFileSource { Name = "agent1", Path = "/var/spool/decnet/agent1.log" },
                new IngestFileSource { Name = "agent1", Path = "/var/spool/decnet/other.log" },
                new IngestFileSource { Name = "../etc", Path = "" },
            ],
            ChannelCapacity = 5,
        };

        var result = new FileIngestOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(4, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.Contains("'agent1' is used twice", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Files:2:Path is required", StringComparison.Ordinal));
    }

    [Fact]
    public void No_files_is_valid() => Assert.True(new FileIngestOptionsValidator().Validate(null, new FileIngestOptions()).Succeeded);
}
