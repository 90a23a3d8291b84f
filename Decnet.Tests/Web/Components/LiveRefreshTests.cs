using Bunit;
using Decnet.Core.Notifications;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Web.Components;

/// <summary>A renderer with a real notification hub of its own.</summary>
public abstract class LiveHubContext : BunitContext
{
    protected LiveHubContext()
    {
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        Services.AddSingleton(Hub);
    }

    protected NotificationHub Hub { get; } = new(NullLogger<NotificationHub>.Instance);
}

/// <summary>The live-refresh helper of the dashboard pages: filtered notifications, coalesced reloads.</summary>
public sealed class LiveRefreshTests : LiveHubContext
{
    [Fact]
    public void Only_notifications_with_the_reason_the_page_asked_for_refresh_it()
    {
        var cut = Render<LivePage>(p => p.Add(c => c.When, ping => ping.Reason == "enrolled"));

        Hub.Publish(new Ping("heartbeat"));
        Hub.Publish(new Ping("decommissioned"));
        Assert.Equal(0, cut.Instance.Refreshes);

        Hub.Publish(new Ping("enrolled"));
        cut.WaitForAssertion(() => Assert.Equal("refreshes 1", cut.Markup));
        Assert.Equal(1, cut.Instance.Refreshes);
    }

    [Fact]
    public async Task Notifications_arriving_during_a_refresh_fold_into_one_more_refresh_and_one_render()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cut = Render<LivePage>(p => p.Add(c => c.Gate, () => gate.Task));
        var rendersBefore = cut.RenderCount;

        // The first starts a refresh that waits on the gate; the next five arrive while it runs.
        for (var i = 0; i < 6; i++)
        {
            Hub.Publish(new Ping("ingested"));
        }
        Assert.Equal(0, cut.Instance.Refreshes);
        gate.SetResult();

        cut.WaitForAssertion(() => Assert.Equal("refreshes 2", cut.Markup));
        await Task.Delay(200, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(2, cut.Instance.Refreshes);
        Assert.Equal(rendersBefore + 2, cut.RenderCount);

        // Once idle, the next notification refreshes again: nothing stays folded.
        Hub.Publish(new Ping("ingested"));
        cut.WaitForAssertion(() => Assert.Equal("refreshes 3", cut.Markup));
    }

    [Fact]
    public void A_closed_page_hears_nothing()
    {
        var cut = Render<LivePage>();
        cut.Instance.Dispose();

        Hub.Publish(new Ping("ingested"));
        Assert.Equal(0, cut.Instance.Refreshes);
        Assert.Equal(0, Hub.SubscriberCount<Ping>());
    }
}

/// <summary>The helper's form for notifications that carry what to show.</summary>
public sealed class LiveShowTests : LiveHubContext
{
    [Fact]
    public async Task A_burst_of_snapshots_shows_only_the_newest_once()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cut = Render<ShowPage>(p => p.Add(c => c.Gate, () => gate.Task));

        // The first waits for a busy renderer; the later ones replace it before it is shown.
        for (var i = 1; i <= 6; i++)
        {
            Hub.Publish(new Ping($"snapshot {i}"));
        }
        gate.SetResult();

        cut.WaitForAssertion(() => Assert.Equal("snapshot 6", cut.Markup));
        await Task.Delay(200, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(["snapshot 6"], cut.Instance.Shown);

        Hub.Publish(new Ping("snapshot 7"));
        cut.WaitForAssertion(() => Assert.Equal("snapshot 7", cut.Markup));
        Assert.Equal(["snapshot 6", "snapshot 7"], cut.Instance.Shown);
    }

    [Fact]
    public async Task A_snapshot_for_another_view_never_displaces_this_views()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cut = Render<ShowPage>(p => p.Add(c => c.Gate, () => gate.Task).Add(c => c.When, ping => ping.Reason.StartsWith("24h", StringComparison.Ordinal)));

        Hub.Publish(new Ping("24h 1"));
        Hub.Publish(new Ping("7d 1"));
        gate.SetResult();

        cut.WaitForAssertion(() => Assert.Equal("24h 1", cut.Markup));
        await Task.Delay(200, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(["24h 1"], cut.Instance.Shown);
    }
}

/// <summary>A page showing what each notification carries, through a renderer the test can hold busy.</summary>
internal sealed class ShowPage : ComponentBase, IDisposable
{
    private IDisposable? _live;
    private string _shown = "";

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Parameter]
    public Func<Task> Gate { get; set; } = () => Task.CompletedTask;

    [Parameter]
    public Func<Ping, bool>? When { get; set; }

    public List<string> Shown { get; } = [];

    protected override void OnInitialized() =>
        _live = LiveRefresh.Show<Ping>(Hub, async work =>
        {
            await Gate();
            await InvokeAsync(work);
        }, ping =>
        {
            Shown.Add(ping.Reason);
            _shown = ping.Reason;
            StateHasChanged();
        }, When);

    protected override void BuildRenderTree(RenderTreeBuilder builder) => builder.AddContent(0, _shown);

    public void Dispose() => _live?.Dispose();
}

public sealed record Ping(string Reason);

/// <summary>A page reduced to its live subscription: each refresh waits on the gate, counts and renders.</summary>
internal sealed class LivePage : ComponentBase, IDisposable
{
    private IDisposable? _live;

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Parameter]
    public Func<Task> Gate { get; set; } = () => Task.CompletedTask;

    [Parameter]
    public Func<Ping, bool>? When { get; set; }

    public int Refreshes { get; private set; }

    protected override void OnInitialized() =>
        _live = LiveRefresh.Subscribe(Hub, InvokeAsync, async () =>
        {
            await Gate();
            Refreshes++;
            StateHasChanged();
        }, When);

    protected override void BuildRenderTree(RenderTreeBuilder builder) => builder.AddContent(0, $"refreshes {Refreshes}");

    public void Dispose() => _live?.Dispose();
}
