using System.Globalization;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Shell;
using Decnet.Core.Search;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Decnet.Core.Events;

namespace Decnet.Core.Recordings;

/// <summary>
/// The shell sessions an attacker left recorded. A recording belongs to an attacker only through a
/// stored <c>session_recorded</c> event of that attacker's address (its <c>recording</c> field names
/// the file), so a name alone never opens anything. Files are found under the embedded runtime's state
/// folder (<c>&lt;data&gt;/deckies/&lt;decky&gt;/&lt;service&gt;/recordings</c>), every part checked
/// against the exact shape the recorder writes, and the resolved path must stay inside that folder.
/// </summary>
public sealed partial class SessionRecordings(IDbContextFactory<DecnetDbContext> dbFactory, IOptions<StorageOptions> storage)
{
    public const string RecordedEvent = AsciicastRecorder.RecordedEvent;
    public const string RecordingField = AsciicastRecorder.RecordingField;
    public const int MaxListed = 200;

    /// <summary>Where the embedded runtime keeps each decky's service state.</summary>
    public string Root => Path.GetFullPath(Path.Combine(storage.Value.DataPath, "deckies"));

    /// <summary>The attacker's recorded sessions, newest first; null when the attacker does not exist.</summary>
    public async Task<IReadOnlyList<SessionRecording>?> ListAsync(Guid attackerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ip = await db.Attackers.AsNoTracking().Where(a => a.Id == attackerId).Select(a => a.Ip).FirstOrDefaultAsync(cancellationToken);
        if (ip is null)
        {
            return null;
        }
        var rows = await db.Logs.AsNoTracking()
            .Where(l => l.AttackerIp == ip && l.EventType == RecordedEvent)
            .OrderByDescending(l => l.Id)
            .Take(MaxListed)
            .ToListAsync(cancellationToken);
        var recordings = new List<SessionRecording>(rows.Count);
        foreach (var row in rows)
        {
            var fields = LogRow.ParseFields(row.Fields);
            if (!fields.TryGetValue(RecordingField, out var name) || !NamePattern().IsMatch(name))
            {
                continue;
            }
            recordings.Add(new SessionRecording(
                row.Id, DateTime.SpecifyKind(row.Timestamp, DateTimeKind.Utc), row.Decky, row.Service, name,
                Long(fields, "bytes"), Double(fields, "duration"), fields.TryGetValue("truncated", out var truncated) && truncated == "true",
                fields.GetValueOrDefault("username"), fields.GetValueOrDefault("session_id"),
                Resolve(row.Decky, row.Service, name) is not null));
        }
        return recordings;
    }

    /// <summary>Finds one recording of the attacker; the caller streams <see cref="RecordingLookup.Path"/>.</summary>
    public async Task<RecordingLookup> FindAsync(Guid attackerId, string decky, string service, string name, CancellationToken cancellationToken)
    {
        if (!IsValid(decky, service, name))
        {
            return new RecordingLookup(RecordingLookupStatus.Invalid, null, "decky, service or recording name is not in the recorded form");
        }
        var recordings = await ListAsync(attackerId, cancellationToken);
        if (recordings is null)
        {
            return new RecordingLookup(RecordingLookupStatus.NotFound, null, "no such attacker");
        }
        var match = recordings.FirstOrDefault(r => r.Decky == decky && r.Service == service && r.Name == name);
        if (match is null)
        {
            return new RecordingLookup(RecordingLookupStatus.NotFound, null, "no such recording for this attacker");
        }
        var path = Resolve(decky, service, name);
        return path is null
            ? new RecordingLookup(RecordingLookupStatus.NotFound, null, "the recording file is not on this host")
            : new RecordingLookup(RecordingLookupStatus.Found, path, null) { Recording = match };
    }

    /// <summary>Reads a found recording for the player, at most <paramref name="maxBytes"/> of it.</summary>
    public static async Task<Asciicast> ReadAsync(string path, long maxBytes, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.Asynchronous });
        return await AsciicastReader.ReadAsync(file, maxBytes, cancellationToken).ConfigureAwait(false);
    }

    public static bool IsValid(string decky, string service, string name) =>
        DeckyPattern().IsMatch(decky) && ServicePattern().IsMatch(service) && NamePattern().IsMatch(name);

    private string? Resolve(string decky, string service, string name)
    {
        if (!IsValid(decky, service, name))
        {
            return null;
        }
        var root = Root + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(Root, decky, service, "recordings", name));
        if (!path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path))
        {
            return null;
        }
        // Neither the file nor any folder below the root may be a link: a link could point anywhere.
        if (new FileInfo(path).LinkTarget is not null)
        {
            return null;
        }
        for (var folder = new DirectoryInfo(Path.GetDirectoryName(path)!); folder.FullName.Length > Root.Length; folder = folder.Parent!)
        {
            if (folder.LinkTarget is not null)
            {
                return null;
            }
        }
        return path;
    }

    private static long Long(IReadOnlyDictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static double Double(IReadOnlyDictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : 0;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex DeckyPattern();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex ServicePattern();

    // <UTC yyyyMMddTHHmmssZ>_<session id, 32 hex>_<channel number>.cast, as AsciicastRecorder names them.
    [GeneratedRegex("^[0-9]{8}T[0-9]{6}Z_[0-9a-f]{32}_[0-9]{1,10}\\.cast$")]
    private static partial Regex NamePattern();
}

/// <summary>One recorded shell session, from its <c>session_recorded</c> event.</summary>
/// <param name="Available">Whether the file is on this host (Docker deckies keep theirs inside the container).</param>
public sealed record SessionRecording(
    long LogId, DateTime Timestamp, string Decky, string Service, string Name, long Bytes, double DurationSeconds, bool Truncated,
    string? Username, string? SessionId, bool Available);

public enum RecordingLookupStatus
{
    Found,
    Invalid,
    NotFound,
}

public sealed record RecordingLookup(RecordingLookupStatus Status, string? Path, string? Error)
{
    public SessionRecording? Recording { get; init; }
}
