using Bunit;
using Decnet.Core.Notifications;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Web.Components;

/// <summary>The live-refresh helper of the dashboard pages: filtered notifications, coalesced reloads.</summary>
public sealed class LiveRefreshTests : BunitContext
{
    private readonly NotificationHub _hub = new(NullLogger<NotificationHub>.Instance);

    public LiveRefreshTests()
    {
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        Services.AddSingleton(_hub);
    }

    [Fact]
    public void Only_notifications_with_the_reason_the_page_asked_for_refresh_it()
    {
        var cut = Render<LivePage>(p => p.Add(c => c.When, ping => ping.Reason == "enrolled"));

        _hub.Publish(new Ping("heartbeat"));
        _hub.Publish(new Ping("decommissioned"));
        Assert.Equal(0, cut.Instance.Refreshes);

        _hub.Publish(new Ping("enrolled"));
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
            _hub.Publish(new Ping("ingested"));
        }
        Assert.Equal(0, cut.Instance.Refreshes);
        gate.SetResult();

        cut.WaitForAssertion(() => Assert.Equal("refreshes 2", cut.Markup));
        await Task.Delay(200, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(2, cut.Instance.Refreshes);
        Assert.Equal(rendersBefore + 2, cut.RenderCount);

        // Once idle, the next notification refreshes again: nothing stays folded.
        _hub.Publish(new Ping("ingested"));
        cut.WaitForAssertion(() => Assert.Equal("refreshes 3", cut.Markup));
    }

    [Fact]
    public void A_closed_page_hears_nothing()
    {
        var cut = Render<LivePage>();
        cut.Instance.Dispose();

        _hub.Publish(new Ping("ingested"));
        Assert.Equal(0, cut.Instance.Refreshes);
        Assert.Equal(0, _hub.SubscriberCount<Ping>());
    }
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
