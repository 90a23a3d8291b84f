using Decnet.Core.Deckies;

namespace Decnet.Tests.Deckies;

public sealed class MutationIntervalTests
{
    [Theory]
    [InlineData("1m", 1)]
    [InlineData("30m", 30)]
    [InlineData("2d", 2880)]
    [InlineData("1M", 43200)]
    [InlineData("1y", 525600)]
    [InlineData("3Y", 1576800)]
    [InlineData(" 45m ", 45)]
    public void Parses_count_and_unit_into_minutes(string text, int minutes)
    {
        var interval = MutationInterval.Parse(text);

        Assert.Equal(minutes, interval.TotalMinutes);
        Assert.Equal(TimeSpan.FromMinutes(minutes), interval.Duration);
        Assert.Equal(text.Trim(), interval.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("30", "has no unit")]
    [InlineData("30s", "in seconds")]
    [InlineData("2h", "unknown unit 'h'")]
    [InlineData("0m", "at least 1m")]
    [InlineData("-5m", "whole number")]
    [InlineData("1.5d", "whole number")]
    [InlineData("m", "whole number")]
    [InlineData("99999y", "too long")]
    public void Rejects_bad_text_with_a_reason(string text, string reason)
    {
        Assert.False(MutationInterval.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        var exception = Assert.Throws<FormatException>(() => MutationInterval.Parse(text));
        Assert.Equal(error, exception.Message);
    }

    [Fact]
    public void Minute_and_month_units_are_case_sensitive()
    {
        Assert.Equal(1, MutationInterval.Parse("1m").TotalMinutes);
        Assert.Equal(43200, MutationInterval.Parse("1M").TotalMinutes);
        Assert.False(MutationInterval.TryParse("1D", out _));
    }

    [Theory]
    [InlineData(1, "1m")]
    [InlineData(90, "90m")]
    [InlineData(1440, "1d")]
    [InlineData(2880, "2d")]
    [InlineData(43200, "1M")]
    [InlineData(525600, "1y")]
    [InlineData(44640, "31d")]
    public void Formats_minutes_in_the_largest_exact_unit(int minutes, string text)
    {
        Assert.Equal(text, MutationInterval.Format(minutes));
        Assert.Equal(minutes, MutationInterval.Parse(text).TotalMinutes);
    }

    [Fact]
    public void Formatting_rejects_less_than_a_minute()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MutationInterval.Format(0));
    }

    [Fact]
    public void Format_then_parse_round_trips_for_random_minutes()
    {
        var random = new Random(2024);
        for (var i = 0; i < 1000; i++)
        {
            var minutes = random.Next(1, int.MaxValue);

            Assert.Equal(minutes, MutationInterval.Parse(MutationInterval.Format(minutes)).TotalMinutes);
        }
    }
}
