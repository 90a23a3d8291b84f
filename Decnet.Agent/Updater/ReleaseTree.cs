using System.Runtime.InteropServices;
using System.Text.Json;
using Decnet.Core.Swarm.Updates;

namespace Decnet.Agent.Updater;

/// <summary>
/// The worker's install tree: <c>releases/active</c> (running), <c>releases/prev</c> (the one before),
/// <c>releases/active.new</c> (staging while a tarball unpacks) and <c>current</c> → releases/active.
/// Every slot carries a manifest (sha, installed_at). A rejected tarball only ever touches staging.
/// </summary>
public sealed class ReleaseTree(string installDirectory, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Releases => Path.Combine(installDirectory, "releases");

    public string Active => Path.Combine(Releases, UpdaterProtocol.Active);

    public string Previous => Path.Combine(Releases, UpdaterProtocol.Previous);

    public string Staging => Path.Combine(Releases, "active.new");

    public string Current => Path.Combine(installDirectory, "current");

    public bool HasPrevious => Directory.Exists(Previous);

    public IReadOnlyList<ReleaseSlot> Slots()
    {
        var slots = new List<ReleaseSlot>();
        foreach (var (name, path) in new[] { (UpdaterProtocol.Active, Active), (UpdaterProtocol.Previous, Previous) })
        {
            if (Directory.Exists(path))
            {
                slots.Add(ReadManifest(name, path));
            }
        }
        return slots;
    }

    public string? ActiveSha => Directory.Exists(Active) ? ReadManifest(UpdaterProtocol.Active, Active).Sha : null;

    /// <summary>Unpacks the tarball into staging and checks its content against <paramref name="sha"/>; the live slots are untouched.</summary>
    /// <exception cref="ReleaseRejectedException">The tarball, or its content hash, is refused; staging is gone again.</exception>
    public async Task StageAsync(Stream tarball, string sha, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Releases);
        DeleteIfPresent(Staging);
        try
        {
            await ReleaseArchive.ExtractAsync(tarball, Staging, cancellationToken);
            var actual = await ReleaseArchive.DigestOfAsync(Staging, cancellationToken);
            if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
            {
                throw new ReleaseRejectedException("(content)", $"the release content hashes to {actual}, not the announced {sha}");
            }
            var manifest = new ReleaseSlot(UpdaterProtocol.Active, actual, time.GetUtcNow().UtcDateTime);
            await File.WriteAllTextAsync(Path.Combine(Staging, ReleaseArchive.ManifestFileName), JsonSerializer.Serialize(manifest, Json), cancellationToken);
        }
        catch
        {
            DeleteIfPresent(Staging);
            throw;
        }
    }

    /// <summary>active → prev (the old prev goes), staging → active, current repointed.</summary>
    public void Promote()
    {
        if (Directory.Exists(Active))
        {
            DeleteIfPresent(Previous);
            Directory.Move(Active, Previous);
        }
        Directory.Move(Staging, Active);
        RepointCurrent();
    }

    /// <summary>Swaps prev and active (rollback, or undoing a failed update).</summary>
    public void Swap()
    {
        var aside = Path.Combine(Releases, "active.swap");
        DeleteIfPresent(aside);
        Directory.Move(Active, aside);
        Directory.Move(Previous, Active);
        Directory.Move(aside, Previous);
        RepointCurrent();
    }

    /// <summary><c>current</c> → releases/active, replaced with one rename(2) so it never dangles half-written.</summary>
    public void RepointCurrent()
    {
        var temporary = Current + ".new";
        if (new FileInfo(temporary).LinkTarget is not null || File.Exists(temporary))
        {
            File.Delete(temporary);
        }
        File.CreateSymbolicLink(temporary, Active);
        // File.Move follows the link (a directory) and refuses; rename(2) replaces the link itself.
        if (Rename(temporary, Current) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            File.Delete(temporary);
            throw new IOException($"cannot repoint {Current} to {Active}: errno {error}");
        }
    }

    [DllImport("libc", EntryPoint = "rename", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Rename(string oldPath, string newPath);

    private static ReleaseSlot ReadManifest(string slot, string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<ReleaseSlot>(File.ReadAllText(Path.Combine(path, ReleaseArchive.ManifestFileName)), Json);
            return new ReleaseSlot(slot, manifest?.Sha, manifest?.InstalledAt);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // Installed by the enrollment bootstrap, before any update: no manifest yet.
            return new ReleaseSlot(slot, null, null);
        }
    }

    private static void DeleteIfPresent(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
