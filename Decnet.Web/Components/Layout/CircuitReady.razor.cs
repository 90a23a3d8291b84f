namespace Decnet.Web.Components.Layout;

/// <summary>
/// The hidden marker that tells tests (and scripts) the circuit is live. It re-renders only itself: were the
/// layout to flip it, the whole frame (theme stylesheet, app bar, navigation) would render twice and every
/// circuit would keep both render trees.
/// </summary>
public partial class CircuitReady
{
    private bool _interactive;

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            _interactive = true;
            StateHasChanged();
        }
    }
}
