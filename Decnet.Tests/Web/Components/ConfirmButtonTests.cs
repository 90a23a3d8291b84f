using Bunit;
using Decnet.Web.Components.Controls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;

namespace Decnet.Tests.Web.Components;

/// <summary>The two-click confirmation shared by the fleet, swarm fleet and config pages.</summary>
public sealed class ConfirmButtonTests : BunitContext
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private int _confirmed;

    public ConfirmButtonTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(_time);
    }

    private IRenderedComponent<ConfirmButton> RenderButton(bool busy = false) => Render<ConfirmButton>(p => p
        .Add(b => b.Text, "Teardown")
        .Add(b => b.ConfirmText, "Confirm teardown")
        .Add(b => b.BusyText, "Tearing down…")
        .Add(b => b.Busy, busy)
        .Add(b => b.OnConfirmed, () => _confirmed++)
        .AddUnmatched("data-testid", "teardown"));

    private static string Label(IRenderedComponent<ConfirmButton> cut) => cut.Find("[data-testid=teardown]").TextContent.Trim();

    [Fact]
    public void The_first_click_only_arms_and_the_second_within_the_window_acts_once()
    {
        var cut = RenderButton();
        Assert.Equal("Teardown", Label(cut));

        cut.Find("[data-testid=teardown]").Click();
        Assert.Equal("Confirm teardown", Label(cut));
        Assert.Contains("mud-button-filled", cut.Find("[data-testid=teardown]").ClassName, StringComparison.Ordinal);
        Assert.Equal(0, _confirmed);

        _time.Advance(TimeSpan.FromSeconds(4));
        cut.Find("[data-testid=teardown]").Click();
        Assert.Equal(1, _confirmed);
        Assert.Equal("Teardown", Label(cut));
        Assert.Contains("mud-button-text", cut.Find("[data-testid=teardown]").ClassName, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_click_after_the_window_arms_again_instead_of_acting()
    {
        var cut = RenderButton();
        cut.Find("[data-testid=teardown]").Click();

        _time.Advance(ConfirmButton.DefaultWindow + TimeSpan.FromSeconds(1));
        cut.Find("[data-testid=teardown]").Click();
        Assert.Equal(0, _confirmed);
        Assert.Equal("Confirm teardown", Label(cut));

        cut.Find("[data-testid=teardown]").Click();
        Assert.Equal(1, _confirmed);
    }

    [Fact]
    public void While_busy_it_says_so_and_cannot_be_clicked()
    {
        var cut = RenderButton(busy: true);
        Assert.Equal("Tearing down…", Label(cut));
        Assert.True(cut.Find("[data-testid=teardown]").HasAttribute("disabled"));
    }
}
