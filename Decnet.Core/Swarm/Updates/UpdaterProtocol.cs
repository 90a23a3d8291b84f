namespace Decnet.Core.Swarm.Updates;

/// <summary>The updater daemon's wire shapes (snake_case JSON), shared by the worker and the master.</summary>
public static class UpdaterProtocol
{
    public const int DefaultPort = 8766;
    public const string RoleName = "updater";

    /// <summary>Multipart field names of <c>POST /update</c> and <c>/update-self</c>.</summary>
    public const string TarballField = "tarball";
    public const string ShaField = "sha";
    public const string ConfirmSelfField = "confirm_self";

    public const string Active = "active";
    public const string Previous = "prev";
}

/// <summary>One release slot: active or prev, with the manifest written when it was installed (null when unknown).</summary>
public sealed record ReleaseSlot(string Slot, string? Sha, DateTime? InstalledAt);

/// <summary><c>GET /health</c> on the updater.</summary>
public sealed record UpdaterHealth(string Status, string Role, IReadOnlyList<ReleaseSlot> Releases);

/// <summary><c>GET /releases</c>.</summary>
public sealed record UpdaterReleases(IReadOnlyList<ReleaseSlot> Releases);

/// <summary>The answer of /update, /update-self and /rollback when they worked.</summary>
public sealed record UpdaterResult(string Status, string? Sha, string Detail, IReadOnlyList<ReleaseSlot> Releases);

/// <summary>The detail of a failed /update or /rollback (409 when the previous release is back, 500 otherwise).</summary>
public sealed record UpdaterFailure(string Error, bool RolledBack);
