using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;

namespace Decnet.Web.Components.Layout;

/// <summary>
/// The navigation: the sections every signed-in operator reads, and the admin's swarm tools when the
/// product's admin policy allows them (the same decision the pages and endpoints make).
/// </summary>
public sealed partial class NavMenu : IDisposable
{
    /// <summary>A section of the dashboard; <see cref="Exact"/> only for the root, which every path starts with.</summary>
    private sealed record Entry(string Href, string Title, MarkupString Icon, bool AdminOnly = false, bool Exact = false);

    private static readonly Entry[] Entries =
    [
        new("/", "Dashboard", new(Icons.Material.Filled.Dashboard), Exact: true),
        new("/logs", "Live Logs", new(Icons.Material.Filled.ManageSearch)),
        new("/fleet", "Decoy Fleet", new(Icons.Material.Filled.Hub)),
        new("/attackers", "Attackers", new(Icons.Material.Filled.PersonSearch)),
        new("/bounty", "Bounty", new(Icons.Material.Filled.Diamond)),
        new("/swarm/hosts", "Swarm Hosts", new(Icons.Material.Filled.Lan)),
        new("/swarm/enrollment", "Agent Enrollment", new(Icons.Material.Filled.AddLink), AdminOnly: true),
        new("/swarm-updates", "Remote Updates", new(Icons.Material.Filled.SystemUpdateAlt), AdminOnly: true),
        new("/config", "Config", new(Icons.Material.Filled.Settings)),
    ];

    [Inject]
    public required NavigationManager Navigation { get; init; }

    [Inject]
    public required IAuthorizationService Authorization { get; init; }

    [CascadingParameter]
    public Task<AuthenticationState>? AuthenticationState { get; set; }

    private bool _admin;

    /// <summary>The current path without query or fragment, read once per navigation, not once per entry.</summary>
    private string _path = "/";

    protected override void OnInitialized()
    {
        ReadPath();
        Navigation.LocationChanged += OnLocationChanged;
    }

    /// <summary>Runs again whenever the cascaded authentication state changes (a demoted admin loses the entries).</summary>
    protected override async Task OnParametersSetAsync()
    {
        var user = AuthenticationState is null ? null : (await AuthenticationState).User;
        _admin = user is not null && (await Authorization.AuthorizeAsync(user, Policies.Admin)).Succeeded;
    }

    private bool IsActive(Entry entry) =>
        entry.Exact
            ? _path == entry.Href
            : _path.Equals(entry.Href, StringComparison.OrdinalIgnoreCase) || _path.StartsWith(entry.Href + "/", StringComparison.OrdinalIgnoreCase);

    private void ReadPath() => _path = "/" + Navigation.ToBaseRelativePath(Navigation.Uri).Split('?', '#')[0];

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => _ = InvokeAsync(() =>
    {
        ReadPath();
        StateHasChanged();
    });

    public void Dispose() => Navigation.LocationChanged -= OnLocationChanged;
}
