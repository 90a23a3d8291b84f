using Bunit;
using Bunit.Rendering;
using Decnet.Web.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace Decnet.Tests.Web.Components;

/// <summary>
/// Clicks on pages that live pushes render from other threads (dashboard, fleet): a render between finding an
/// element and clicking it retires the element's handler, so the element is found again and clicked.
/// </summary>
internal static class LiveClicks
{
    public static void ClickLive<TComponent>(this IRenderedComponent<TComponent> cut, string selector)
        where TComponent : IComponent
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                cut.Find(selector).Click();
                return;
            }
            catch (UnknownEventHandlerIdException) when (attempt < 5)
            {
                // Re-rendered between Find and Click: find the current element.
            }
        }
    }

    /// <summary>
    /// A click on an element of a table rendered as shared markup, as <c>assets/decnet.js</c> reports it: the
    /// artifact button's <c>data-artifact</c>, else the row's <c>data-href</c> (none on a link), delivered to
    /// the nearest host with a <c>tableaction</c> handler. E2E tests click the same markup in Chromium.
    /// </summary>
    public static void TableActionLive<TComponent>(this IRenderedComponent<TComponent> cut, string selector)
        where TComponent : IComponent
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var target = cut.Find(selector);
                var artifact = target.Closest("[data-artifact]")?.GetAttribute("data-artifact");
                var href = artifact is null && target.Closest("a[href]") is null ? target.Closest("[data-href]")?.GetAttribute("data-href") : null;
                var host = Ancestors(target).FirstOrDefault(e => e.HasAttribute("blazor:ontableaction")) ?? throw new InvalidOperationException($"no tableaction handler above '{selector}'");
                host.TriggerEvent("ontableaction", new TableActionEventArgs { Artifact = artifact, Href = href });
                return;
            }
            catch (UnknownEventHandlerIdException) when (attempt < 5)
            {
                // Re-rendered between Find and the event: find the current element.
            }
        }
    }

    private static IEnumerable<AngleSharp.Dom.IElement> Ancestors(AngleSharp.Dom.IElement element)
    {
        for (var at = element; at is not null; at = at.ParentElement)
        {
            yield return at;
        }
    }
}
