using Decnet.Core.Settings;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Settings;

[Trait("Category", TestCategories.Unit)]
public sealed class SettingsTests
{
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
