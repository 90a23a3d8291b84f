using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// A click in a table rendered as shared markup (<see cref="Overview.DashboardMarkup"/>): one handler on the
/// table's host instead of a delegate per row and button in every circuit. The browser side
/// (<c>assets/decnet.js</c>) reads what was clicked from the markup's own attributes: the artifact button's
/// <c>data-artifact</c>, else the row's <c>data-href</c> (a click on a link is left to the link itself).
/// </summary>
public sealed class TableActionEventArgs : EventArgs
{
    /// <summary>The page the clicked row leads to (the event's attacker), when it leads anywhere.</summary>
    public string? Href { get; set; }

    /// <summary>The stored name of the artifact whose button was clicked.</summary>
    public string? Artifact { get; set; }
}

/// <summary>The <c>@ontableaction</c> attribute (the Razor compiler finds custom events only on a class of this name).</summary>
[EventHandler("ontableaction", typeof(TableActionEventArgs), enableStopPropagation: true, enablePreventDefault: true)]
public static class EventHandlers
{
}
