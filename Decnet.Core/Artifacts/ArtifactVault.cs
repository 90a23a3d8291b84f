using System.Text.RegularExpressions;
using Decnet.Core.Storage;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Artifacts;

/// <summary>
/// Finds a captured artifact for download. Every part of the request is checked against the exact
/// shape the stores write, and the resolved path (after following links) must stay inside the
/// artifacts folder: a crafted name can never reach the database, keys or anything else on disk.
/// </summary>
public sealed partial class ArtifactVault(IOptions<StorageOptions> storage)
{
    public string Root => Path.GetFullPath(Path.Combine(storage.Value.DataPath, "artifacts"));

    public ArtifactLookup Find(string decky, string service, string storedAs)
    {
        if (!DeckyPattern().IsMatch(decky) || !ServicePattern().IsMatch(service) || !StoredAsPattern().IsMatch(storedAs))
        {
            return new ArtifactLookup(ArtifactLookupStatus.Invalid, null, "decky, service or artifact name is not in the stored form");
        }
        var root = Root + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(Root, decky, service, storedAs));
        if (!path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path))
        {
            return new ArtifactLookup(ArtifactLookupStatus.NotFound, null, "no such artifact");
        }
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        var directory = new DirectoryInfo(Path.GetDirectoryName(path)!).ResolveLinkTarget(returnFinalTarget: true);
        if (!Path.GetFullPath(target).StartsWith(root, StringComparison.Ordinal) || directory is not null)
        {
            return new ArtifactLookup(ArtifactLookupStatus.NotFound, null, "no such artifact");
        }
        return new ArtifactLookup(ArtifactLookupStatus.Found, target, null);
    }

    /// <summary>The attacker's own file name, as the last part of the stored name.</summary>
    public static string OriginalName(string storedAs) => storedAs[(storedAs.IndexOf('_', 17) + 1)..];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex DeckyPattern();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex ServicePattern();

    // <UTC yyyyMMddTHHmmssZ>_<12 hex of sha256>_<sanitised basename without leading dots>
    [GeneratedRegex("^[0-9]{8}T[0-9]{6}Z_[0-9a-f]{12}_[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")]
    private static partial Regex StoredAsPattern();
}

public enum ArtifactLookupStatus
{
    Found,
    Invalid,
    NotFound,
}

public sealed record ArtifactLookup(ArtifactLookupStatus Status, string? Path, string? Error);
