using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>
/// Records one interactive session as an asciinema v2 file (a JSON header line, then one
/// <c>[seconds, "o"|"i", data]</c> line per chunk) for replay in the UI. Written while the session runs,
/// so memory stays flat; past <c>maxBytes</c> further events are dropped and the file is marked truncated.
/// Recordings are charged to the decky's artifact quota (per decky and in total, plus one block per file)
/// in steps of <see cref="ReservationStep"/> as they grow: a shell started past the quota is served but not
/// recorded, and one that reaches it mid-session stops recording there.
/// </summary>
public sealed class AsciicastRecorder : IAsyncDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The event that closes a recording; its <see cref="RecordingField"/> names the file.</summary>
    public const string RecordedEvent = "session_recorded";

    public const string RecordingField = "recording";

    /// <summary>How much more quota a growing recording takes at a time; what it did not use is given back at the end.</summary>
    public const long ReservationStep = 64 * 1024;

    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly long _maxBytes;
    private readonly DateTimeOffset _startedAt;
    private readonly ArtifactQuota _quota;
    private readonly string _decky;
    private long _reserved;
    private bool _finished;
    private bool _disposed;

    private AsciicastRecorder(FileStream file, TimeProvider time, long maxBytes, ArtifactQuota quota, string decky, long reserved)
    {
        _file = file;
        _time = time;
        _maxBytes = maxBytes;
        _quota = quota;
        _decky = decky;
        _reserved = reserved;
        _start = time.GetTimestamp();
        _startedAt = time.GetUtcNow();
    }

    public string Path => _file.Name;
    public string Name => System.IO.Path.GetFileName(_file.Name);
    public long Bytes { get; private set; }
    public bool Truncated { get; private set; }

    /// <summary>Why the recording stopped early: the per-recording cap, a quota, or none.</summary>
    public ArtifactRefusal StoppedBy { get; private set; }

    /// <summary>
    /// Starts recording a shell of <paramref name="connection"/> under <c>&lt;state&gt;/recordings</c>, or
    /// emits <c>session_not_recorded</c> (with the quota that refused it) and returns null; a disk error also
    /// leaves the session unrecorded. Never throws for the attacker's session to see.
    /// </summary>
    public static async Task<AsciicastRecorder?> TryStartAsync(HoneypotConnection connection, uint channel, int width, int height, string term, string shell, long maxBytes, string? username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var context = connection.Context;
        var directory = System.IO.Path.Combine(context.StateDirectory, "recordings");
        context.Artifacts.Adopt(context.DeckyName, directory);
        var first = ArtifactQuota.FileOverhead + Math.Min(ReservationStep, maxBytes);
        var refusal = context.Artifacts.TryReserve(context.DeckyName, first);
        if (refusal != ArtifactRefusal.None)
        {
            connection.Emit("session_not_recorded", null, EventSeverity.Notice,
                ("reason", refusal.ToWire()),
                ("limit", (refusal == ArtifactRefusal.DeckyQuota ? context.Artifacts.Options.MaxBytesPerDecky : context.Artifacts.Options.MaxBytesTotal).ToString(CultureInfo.InvariantCulture)),
                ("username", username), ("session_id", connection.SessionId.ToString("N")));
            return null;
        }
        try
        {
            return await StartAsync(directory, connection.SessionId, channel, width, height, term, shell, context.Time, maxBytes, context.Artifacts, context.DeckyName, first, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // A full disk must not take the decoy down: the session simply goes unrecorded.
            context.Artifacts.Release(context.DeckyName, first);
            return null;
        }
    }

    /// <summary>The fields of the <c>session_recorded</c> event that closes a recording.</summary>
    public (string Key, string? Value)[] RecordedFields(string? username, Guid session) =>
    [
        (RecordingField, Name), ("path", Path),
        ("bytes", Bytes.ToString(CultureInfo.InvariantCulture)),
        ("duration", Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)),
        ("truncated", Truncated ? "true" : "false"),
        ("reason", Truncated ? StoppedBy.ToWire() : null),
        ("username", username), ("format", "asciicast-v2"),
        ("session_id", session.ToString("N")),
    ];

    /// <summary>
    /// Opens <c>&lt;directory&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;session&gt;_&lt;channel&gt;.cast</c> (mode 0600)
    /// and writes the header; <paramref name="reserved"/> bytes of <paramref name="quota"/> are already
    /// taken for it. One SSH connection may run several shells, hence the channel number.
    /// </summary>
    private static async Task<AsciicastRecorder> StartAsync(string directory, Guid session, uint channel, int width, int height, string term, string shell, TimeProvider time, long maxBytes, ArtifactQuota quota, string decky, long reserved, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var now = time.GetUtcNow();
        var path = System.IO.Path.Combine(directory, $"{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}_{session:N}_{channel}.cast");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var recorder = new AsciicastRecorder(new FileStream(path, options), time, maxBytes, quota, decky, reserved - ArtifactQuota.FileOverhead);
        var header = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["version"] = 2,
            ["width"] = Math.Clamp(width, 1, 1000),
            ["height"] = Math.Clamp(height, 1, 1000),
            ["timestamp"] = now.ToUnixTimeSeconds(),
            ["env"] = new Dictionary<string, string> { ["SHELL"] = shell, ["TERM"] = term.Length > 64 ? term[..64] : term },
        }, JsonOptions);
        await recorder.AppendAsync(header + "\n", cancellationToken).ConfigureAwait(false);
        return recorder;
    }

    public Task OutputAsync(string data, CancellationToken cancellationToken) => EventAsync("o", data, cancellationToken);

    public Task InputAsync(string data, CancellationToken cancellationToken) => EventAsync("i", data, cancellationToken);

    private Task EventAsync(string kind, string data, CancellationToken cancellationToken)
    {
        if (_finished || data.Length == 0)
        {
            return Task.CompletedTask;
        }
        var seconds = _time.GetElapsedTime(_start).TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture);
        return AppendAsync($"[{seconds}, \"{kind}\", {JsonSerializer.Serialize(data, JsonOptions)}]\n", cancellationToken);
    }

    private async Task AppendAsync(string line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        if (Bytes + bytes.Length > _maxBytes)
        {
            Stop(ArtifactRefusal.SizeCap);
            return;
        }
        if (Bytes + bytes.Length > _reserved)
        {
            var more = Math.Min(Math.Max(ReservationStep, Bytes + bytes.Length - _reserved), _maxBytes - _reserved);
            var refusal = _quota.TryReserve(_decky, more);
            if (refusal != ArtifactRefusal.None)
            {
                // The rest of the session goes unrecorded rather than filling the disk.
                Stop(refusal);
                return;
            }
            _reserved += more;
        }
        Bytes += bytes.Length;
        try
        {
            await _file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // A full disk ends the recording, never the attacker's session.
            Truncated = true;
            _finished = true;
        }
    }

    private void Stop(ArtifactRefusal reason)
    {
        Truncated = true;
        _finished = true;
        if (StoppedBy == ArtifactRefusal.None)
        {
            StoppedBy = reason;
        }
    }

    public TimeSpan Duration => _time.GetUtcNow() - _startedAt;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _finished = true;
        await _file.DisposeAsync().ConfigureAwait(false);
        // Keep what the file holds (plus its block) charged; give back the unused part of the last step.
        _quota.Release(_decky, Math.Max(0, _reserved - Bytes));
    }
}
