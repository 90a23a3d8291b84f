using AngleSharp.Dom;
using Bunit;
using Decnet.Core.Recordings;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Controls.Replay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;

namespace Decnet.Tests.Recordings;

/// <summary>The replay player on a test clock: play, pause, speed and seeking change what the screen shows.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class SessionReplayPlayerTests : BunitContext
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    // Output at 0 s and 0.5 s, then after 4.5 idle seconds (replayed as 2 s): 2.5 s in all.
    private static readonly Asciicast Cast = new(new AsciicastHeader(80, 24, null),
    [
        new AsciicastFrame(0, "o", "root@gate:~# "),
        new AsciicastFrame(0.3, "i", "echo hi\r"),
        new AsciicastFrame(0.5, "o", "echo hi\r\nhi\r\nroot@gate:~# "),
        new AsciicastFrame(5.0, "o", "<b>exit</b>\r\n"),
    ], false);

    public SessionReplayPlayerTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(_time);
    }

    private static string Screen(IRenderedComponent<SessionReplayPlayer> player) => player.Find("[data-testid=replay-screen]").TextContent;

    private static string State(IRenderedComponent<SessionReplayPlayer> player) => player.Find("[data-testid=replay-screen]").GetAttribute("data-state")!;

    [Fact]
    public void Playing_advances_the_screen_with_the_clock_and_pausing_stops_it()
    {
        var player = Render<SessionReplayPlayer>(p => p.Add(x => x.Cast, Cast));
        Assert.Equal("root@gate:~#", Screen(player).Trim());
        Assert.Equal("0:00 / 0:02", player.Find("[data-testid=replay-clock]").TextContent.Trim());

        // The player's tick renders from another thread; a click can queue behind it, so states are awaited.
        player.Find("[data-testid=replay-play]").Click();
        player.WaitForAssertion(() => Assert.Equal("playing", State(player)));
        _time.Advance(TimeSpan.FromSeconds(1));

        player.WaitForAssertion(() => Assert.Contains("\nhi\n", Screen(player), StringComparison.Ordinal));
        Assert.DoesNotContain("exit", Screen(player), StringComparison.Ordinal);

        player.Find("[data-testid=replay-play]").Click();
        player.WaitForAssertion(() => Assert.Equal("paused", State(player)));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("exit", Screen(player), StringComparison.Ordinal);
    }

    [Fact]
    public void At_four_times_the_speed_the_session_ends_four_times_sooner_and_markup_stays_text()
    {
        var player = Render<SessionReplayPlayer>(p => p.Add(x => x.Cast, Cast));
        player.Find("[data-testid=replay-speed]").Change("4");
        player.Find("[data-testid=replay-play]").Click();

        _time.Advance(TimeSpan.FromSeconds(0.7));

        player.WaitForAssertion(() => Assert.Equal("ended", State(player)));
        Assert.Contains("<b>exit</b>", Screen(player), StringComparison.Ordinal);
        Assert.Empty(player.Find("[data-testid=replay-screen]").QuerySelectorAll("b"));
    }

    [Fact]
    public void Seeking_jumps_forward_and_back()
    {
        var player = Render<SessionReplayPlayer>(p => p.Add(x => x.Cast, Cast));

        player.Find("[data-testid=replay-seek]").Change("2500");
        Assert.Contains("exit", Screen(player), StringComparison.Ordinal);
        Assert.Equal("ended", State(player));

        player.Find("[data-testid=replay-seek]").Change("600");
        Assert.Contains("hi", Screen(player), StringComparison.Ordinal);
        Assert.DoesNotContain("exit", Screen(player), StringComparison.Ordinal);

        player.Find("[data-testid=replay-restart]").Click();
        Assert.Equal("root@gate:~#", Screen(player).Trim());
    }
}
