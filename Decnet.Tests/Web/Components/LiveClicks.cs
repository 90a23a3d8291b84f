using Bunit;
using Bunit.Rendering;
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
}
