using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>
/// Records one interactive session as an asciinema v2 file (a JSON header line, then one
/// <c>[seconds, "o"|"i", data]</c> line per chunk) for replay in the UI. Written while the session runs,
/// so memory stays flat; past <c>maxBytes</c> further events are dropped and the file is marked truncated.
/// </summary>
public sealed class AsciicastRecorder : IAsyncDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly long _maxBytes;
    private readonly DateTimeOffset _startedAt;
    private bool _finished;

    private AsciicastRecorder(FileStream file, TimeProvider time, long maxBytes)
    {
        _file = file;
        _time = time;
        _maxBytes = maxBytes;
        _start = time.GetTimestamp();
        _startedAt = time.GetUtcNow();
    }

    public string Path => _file.Name;
    public string Name => System.IO.Path.GetFileName(_file.Name);
    public long Bytes { get; private set; }
    public bool Truncated { get; private set; }

    /// <summary>
    /// Opens <c>&lt;directory&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;session&gt;_&lt;channel&gt;.cast</c> (mode 0600)
    /// and writes the header. One SSH connection may run several shells, hence the channel number.
    /// </summary>
    public static async Task<AsciicastRecorder> StartAsync(string directory, Guid session, uint channel, int width, int height, string term, string shell, TimeProvider time, long maxBytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var now = time.GetUtcNow();
        var path = System.IO.Path.Combine(directory, $"{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}_{session:N}_{channel}.cast");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var recorder = new AsciicastRecorder(new FileStream(path, options), time, maxBytes);
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
            Truncated = true;
            return;
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

    public TimeSpan Duration => _time.GetUtcNow() - _startedAt;

    public async ValueTask DisposeAsync()
    {
        _finished = true;
        await _file.DisposeAsync().ConfigureAwait(false);
    }
}
