// Tables rendered as shared markup carry their actions in attributes; one "tableaction" handler on the
// table's host receives what was clicked (see Decnet.Web/Components/Controls/TableAction.cs).
Blazor.registerCustomEventType('tableaction', {
    browserEventName: 'click',
    createEventArgs: event => {
        const target = event.target instanceof Element ? event.target : null;
        const artifact = target?.closest('[data-artifact]');
        if (artifact) {
            return { href: null, artifact: artifact.getAttribute('data-artifact') };
        }
        // A link navigates by itself; the row's own destination is for clicks anywhere else on it.
        const row = target && !target.closest('a[href]') ? target.closest('[data-href]') : null;
        return { href: row?.getAttribute('data-href') ?? null, artifact: null };
    },
});
