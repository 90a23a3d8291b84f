using Decnet.Core.Audit;
using Decnet.Core.Events;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Pages;

public partial class Dashboard
{
    [Inject]
    public required EventStatistics Statistics { get; init; }

    [Inject]
    public required AuditTrail Audit { get; init; }

    private StatsSummary? _stats;
    private IReadOnlyList<AuditEntry> _activity = [];

    protected override async Task OnInitializedAsync()
    {
        _stats = await Statistics.GetSummaryAsync(CancellationToken.None);
        _activity = await Audit.RecentAsync(10, CancellationToken.None);
    }
}
