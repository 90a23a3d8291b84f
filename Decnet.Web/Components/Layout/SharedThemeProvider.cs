using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components.Rendering;
using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// MudBlazor's theme provider, whose stylesheets (about 25 KB of CSS variables for our palette) are shared
/// by every circuit instead of held once per render of each. Each live circuit keeps its last two render
/// trees, and with them two copies of that text; here they all point at one instance per palette.
/// The stylesheets are still MudBlazor's own: every render builds them as MudBlazor does (rarely: the
/// layout re-renders on a palette switch or a sign-in change), and the result is swapped for the shared
/// instance with the same text. Dark-mode parameters, the system watch and disposal are untouched.
/// </summary>
public sealed class SharedThemeProvider : MudThemeProvider
{
    /// <summary>A palette's stylesheets per text (two palettes, a scrollbar choice: a handful at most).</summary>
    private const int MaxShared = 16;

    private static readonly ConcurrentDictionary<string, string> s_shared = new(StringComparer.Ordinal);

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        using var scratch = new RenderTreeBuilder();
        base.BuildRenderTree(scratch);
        if (Markup(scratch) is not { } stylesheets)
        {
            // The provider rendered more than markup (a later MudBlazor): render it as MudBlazor does.
            base.BuildRenderTree(builder);
            return;
        }
        foreach (var (sequence, text) in stylesheets)
        {
#pragma warning disable ASP0006 // The sequence numbers are MudBlazor's own, copied from its render.
            builder.AddMarkupContent(sequence, Share(text));
#pragma warning restore ASP0006
        }
    }

    /// <summary>The shared instance with <paramref name="text"/>'s content (itself when none is kept yet, or when the table is full).</summary>
    internal static string Share(string text) =>
        s_shared.TryGetValue(text, out var shared) ? shared
        : s_shared.Count < MaxShared ? s_shared.GetOrAdd(text, text)
        : text;

    /// <summary>The provider's markup frames in order, or null when it rendered anything else.</summary>
    private static List<(int Sequence, string Text)>? Markup(RenderTreeBuilder rendered)
    {
#pragma warning disable BL0006 // Reading our own scratch tree; SharedThemeProviderTests pin the result to MudBlazor's markup.
        var frames = rendered.GetFrames();
        var markup = new List<(int, string)>(frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames.Array[i];
            if (frame.FrameType != Microsoft.AspNetCore.Components.RenderTree.RenderTreeFrameType.Markup)
            {
                return null;
            }
            markup.Add((frame.Sequence, frame.MarkupContent));
        }
#pragma warning restore BL0006
        return markup;
    }
}
