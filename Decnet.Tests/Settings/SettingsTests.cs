using Decnet.Core.Settings;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Settings;

[Trait("Category", TestCategories.Unit)]
public sealed class SettingsTests
{
    [Theory]
    [InlineData("30m", 30)]
    [InlineData("1d", 1440)]
    [InlineData("2M", 86_400)]
    [InlineData("1y", 525_600)]
    [InlineData("1Y", 525_600)]
    public void Intervals_parse_to_minutes(string text, int minutes)
    {
        Assert.True(MutationInterval.TryParse(text, out var parsed, out _));
        Assert.Equal(minutes, parsed);
    }

    [Theory]
    [InlineData("30", "Interval must look like")]
    [InlineData("30s", "Unknown interval unit 's'")]
    [InlineData("0m", "at least 1")]
    [InlineData("-5m", "at least 1")]
    [InlineData("m", "Interval must look like")]
    [InlineData("99999999999y", "too long")]
    public void Bad_intervals_say_why(string text, string expected)
    {
        Assert.False(MutationInterval.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, "30m")]
    [InlineData(1440, "1d")]
    [InlineData(43_200, "1M")]
    [InlineData(525_600, "1y")]
    [InlineData(90, "90m")]
    public void Intervals_format_in_their_largest_exact_unit(int minutes, string text) =>
        Assert.Equal(text, MutationInterval.Format(minutes));

    [Fact]
    public async Task Settings_default_to_ten_deckies_and_thirty_minutes_and_persist_changes()
    {
        await using var bed = await CoreTestBed.StartAsync();
        var settings = bed.Services.GetRequiredService<SystemSettingsService>();
        var current = await settings.GetAsync(CancellationToken.None);
        Assert.Equal(10, current.DeploymentLimit);
        Assert.Equal(30, current.GlobalMutationIntervalMinutes);

        Assert.True((await settings.SetDeploymentLimitAsync("admin", 250, CancellationToken.None)).Succeeded);
        Assert.True((await settings.SetGlobalMutationIntervalAsync("admin", "2d", CancellationToken.None)).Succeeded);
        var fresh = new SystemSettingsService(bed.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Decnet.Core.Storage.DecnetDbContext>>(),
            bed.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>());
        var reread = await fresh.GetAsync(CancellationToken.None);
        Assert.Equal(250, reread.DeploymentLimit);
        Assert.Equal(2880, reread.GlobalMutationIntervalMinutes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public async Task Deployment_limits_outside_1_to_500_are_refused(int limit)
    {
        await using var bed = await CoreTestBed.StartAsync();
        var result = await bed.Services.GetRequiredService<SystemSettingsService>().SetDeploymentLimitAsync("admin", limit, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains("between 1 and 500", result.Error, StringComparison.Ordinal);
    }
}
