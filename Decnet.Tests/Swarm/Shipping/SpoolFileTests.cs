using System.Text;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Shipping;

[Trait("Category", TestCategories.Unit)]
public sealed class SpoolFileTests : IDisposable
{
    private readonly TempDirectory _directory = new("decnet-spool");

    private string Spool => Path.Combine(_directory.Path, "decnet.log");

    public void Dispose() => _directory.Dispose();

    private static List<string> Text(SpoolBatch batch) => [.. batch.Lines.Select(l => Encoding.UTF8.GetString(l))];

    [Fact]
    public void Only_complete_lines_are_read_and_each_keeps_its_exact_bytes()
    {
        File.WriteAllText(Spool, "first\n\nthird\r\nunfinish");

        var batch = SpoolFile.Read(Spool, ForwarderCheckpoint.Start);

        Assert.Equal(["first\n", "\n", "third\r\n"], Text(batch));
        Assert.Equal(0, batch.Start);
        Assert.Equal("first\n\nthird\r\n".Length, batch.End);
        Assert.False(batch.Reset);
    }

    [Fact]
    public void Reading_resumes_at_the_checkpoint_and_stops_at_the_batch_limit()
    {
        File.WriteAllText(Spool, string.Concat(Enumerable.Range(0, 10).Select(i => $"line {i}\n")));
        var first = SpoolFile.Read(Spool, ForwarderCheckpoint.Start, maxLines: 4);

        var next = SpoolFile.Read(Spool, new ForwarderCheckpoint(first.FileId, first.End), maxLines: 4);

        Assert.Equal(["line 0\n", "line 1\n", "line 2\n", "line 3\n"], Text(first));
        Assert.Equal(["line 4\n", "line 5\n", "line 6\n", "line 7\n"], Text(next));
        Assert.Equal(first.FileId, next.FileId);
    }

    [Fact]
    public void An_over_long_line_is_cut_at_the_same_place_on_every_read()
    {
        File.WriteAllText(Spool, "0123456789ab\nz\n");

        var batch = SpoolFile.Read(Spool, ForwarderCheckpoint.Start, maxLineBytes: 8);
        var again = SpoolFile.Read(Spool, new ForwarderCheckpoint(batch.FileId, 8), maxLineBytes: 8);

        Assert.Equal(["01234567", "89ab\n", "z\n"], Text(batch));
        Assert.Equal(["89ab\n", "z\n"], Text(again));
        Assert.Equal(15, batch.End);
    }

    [Fact]
    public void A_truncated_or_replaced_spool_is_read_again_from_its_start()
    {
        File.WriteAllText(Spool, "old one\nold two\n");
        var old = SpoolFile.Read(Spool, ForwarderCheckpoint.Start);
        var saved = new ForwarderCheckpoint(old.FileId, old.End);

        File.WriteAllText(Spool, "new\n");
        var truncated = SpoolFile.Read(Spool, saved);
        File.WriteAllText(Spool, "another first line\nand a second, longer than the old file\n");
        var replaced = SpoolFile.Read(Spool, saved);

        Assert.True(truncated.Reset);
        Assert.Equal(["new\n"], Text(truncated));
        Assert.True(replaced.Reset);
        Assert.NotEqual(old.FileId, replaced.FileId);
        Assert.Equal(0, replaced.Start);
        Assert.Equal(2, replaced.Lines.Count);
    }

    [Fact]
    public void A_missing_spool_or_one_without_a_complete_line_yields_nothing()
    {
        Assert.Empty(SpoolFile.Read(Spool, ForwarderCheckpoint.Start).Lines);
        File.WriteAllText(Spool, "no newline yet");
        Assert.Empty(SpoolFile.Read(Spool, ForwarderCheckpoint.Start).Lines);
    }

    [Fact]
    public void The_checkpoint_survives_a_reload_and_a_damaged_one_means_start_over()
    {
        var path = Path.Combine(_directory.Path, "state", ForwarderCheckpoint.FileName);
        new ForwarderCheckpoint("0123abcd", 4242).Save(path);

        Assert.Equal(new ForwarderCheckpoint("0123abcd", 4242), ForwarderCheckpoint.Load(path));
        Assert.False(File.Exists(path + ".tmp"));
        File.WriteAllText(path, "garbage");
        Assert.Equal(ForwarderCheckpoint.Start, ForwarderCheckpoint.Load(path));
    }
}
