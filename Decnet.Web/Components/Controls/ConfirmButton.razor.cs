using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// The two-click confirmation of the dashboard's destructive buttons (teardown, delete user). Each button
/// keeps its own arming: a second click more than <see cref="Window"/> after the first arms it again
/// instead of acting. Attributes such as <c>data-testid</c> land on the button.
/// </summary>
public partial class ConfirmButton
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(5);

    [Inject]
    public required TimeProvider Time { get; init; }

    /// <summary>The label at rest, e.g. "Teardown".</summary>
    [Parameter, EditorRequired]
    public string Text { get; set; } = "";

    /// <summary>The label once armed, e.g. "Confirm teardown".</summary>
    [Parameter, EditorRequired]
    public string ConfirmText { get; set; } = "";

    /// <summary>The label while the action runs; the button is disabled meanwhile.</summary>
    [Parameter]
    public string? BusyText { get; set; }

    [Parameter]
    public bool Busy { get; set; }

    [Parameter]
    public bool Disabled { get; set; }

    [Parameter]
    public TimeSpan Window { get; set; } = DefaultWindow;

    [Parameter]
    public Size Size { get; set; } = Size.Small;

    [Parameter]
    public Color Color { get; set; } = Color.Error;

    /// <summary>The second click within the window.</summary>
    [Parameter]
    public EventCallback OnConfirmed { get; set; }

    [Parameter(CaptureUnmatchedValues = true)]
    public IReadOnlyDictionary<string, object>? Attributes { get; set; }

    private DateTimeOffset? _armedAt;

    private bool IsArmed => _armedAt is { } at && Time.GetUtcNow() - at <= Window;

    private string Label => Busy && BusyText is not null ? BusyText : IsArmed ? ConfirmText : Text;

    private async Task ClickAsync()
    {
        if (!IsArmed)
        {
            _armedAt = Time.GetUtcNow();
            return;
        }
        _armedAt = null;
        await OnConfirmed.InvokeAsync();
    }
}
