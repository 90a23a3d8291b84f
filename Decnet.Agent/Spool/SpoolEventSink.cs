using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Swarm.Shipping;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Spool;

/// <summary>How large the spool grows before it is rotated, and how many rotated generations are kept.</summary>
public sealed record SpoolRotation(long MaxBytes, int RetainedFiles)
{
    public const long DefaultMaxBytes = 64L * 1024 * 1024;
    public const int DefaultRetainedFiles = 8;

    public static readonly SpoolRotation Default = new(DefaultMaxBytes, DefaultRetainedFiles);
}

/// <summary>
/// The worker's local event spool: every decky event becomes one RFC 5424 line appended to
/// <c>{log-directory}/decnet.log</c>, flushed after each batch. When the next line would take the file past
/// <see cref="SpoolRotation.MaxBytes"/> it is rotated (<c>decnet.log</c> → <c>decnet.log.1</c> → <c>.2</c>
/// ..., the oldest beyond <see cref="SpoolRotation.RetainedFiles"/> deleted), always between whole lines;
/// the log forwarder follows the generations by file identity, so a rotation loses nothing it has not
/// shipped while the generation is kept. Disk use is bounded by MaxBytes × (RetainedFiles + 1).
/// Publishing only enqueues, so attacker sessions never wait on the disk; the queue is bounded (an
/// attacker can reach it) and counts what it had to drop. Container log lines of a Docker worker
/// (<see cref="AppendLinesAsync"/>) go through the same writer and the same rotation.
/// </summary>
public sealed class SpoolEventSink : IHoneypotEventSink, IAsyncDisposable
{
    public const int Capacity = 100_000;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly ChannelEventSink _queue = new(Capacity);
    private readonly SpoolRotation _rotation;

    // The pump and the container log lines (AppendLinesAsync) share the writer and its rotation, one batch at a time.
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly ILogger _logger;
    private readonly Task _pump;
    private StreamWriter _writer;
    private long _length;

    public SpoolEventSink(string path, ILogger<SpoolEventSink> logger, SpoolRotation? rotation = null)
    {
        Path = path;
        _logger = logger;
        _rotation = rotation ?? SpoolRotation.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_rotation.MaxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(_rotation.RetainedFiles, 1);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _writer = OpenWriter();
        _pump = Task.Run(PumpAsync);
    }

    public string Path { get; }

    public long DroppedCount => _queue.DroppedCount;

    /// <summary>How many times the spool was rotated by this process.</summary>
    public long Rotations { get; private set; }

    public void Publish(HoneypotEvent honeypotEvent) => _queue.Publish(honeypotEvent);

    private StreamWriter OpenWriter()
    {
        // Append only; readers (the forwarder) and a self-destruct may open, rename or unlink it meanwhile.
        var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024, useAsync: true);
        _length = stream.Length;
        return new StreamWriter(stream, Utf8) { NewLine = "\n", AutoFlush = false };
    }

    private async Task PumpAsync()
    {
        var reader = _queue.Reader;
        long dropped = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await _write.WaitAsync().ConfigureAwait(false);
            try
            {
                while (reader.TryRead(out var honeypotEvent))
                {
                    await WriteLineAsync(Rfc5424Formatter.Format(honeypotEvent)).ConfigureAwait(false);
                }
                await _writer.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // A full disk must not end the pump: the events of this batch are lost and said so.
                _logger.LogError(ex, "Writing the event spool {Path} failed", Path);
            }
            finally
            {
                _write.Release();
            }
            if (DroppedCount != dropped)
            {
                dropped = DroppedCount;
                _logger.LogWarning("The event spool queue was full: {Dropped} event(s) dropped so far", dropped);
            }
        }
    }

    /// <summary>
    /// Appends lines that are already RFC 5424 (a Docker decky's service container writes them on its
    /// stdout) and flushes them, so the caller may record them as stored. Each is one line: the reader
    /// split them on line feeds, and a stray carriage return is dropped rather than written.
    /// </summary>
    public async Task AppendLinesAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var line in lines)
            {
                await WriteLineAsync(line.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)).ConfigureAwait(false);
            }
            await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>One whole line, rotating first when it would take the file past the limit. Callers hold the write lock.</summary>
    private async Task WriteLineAsync(string line)
    {
        var bytes = Utf8.GetByteCount(line) + 1;
        if (_length > 0 && _length + bytes > _rotation.MaxBytes)
        {
            await RotateAsync().ConfigureAwait(false);
        }
        await _writer.WriteLineAsync(line).ConfigureAwait(false);
        _length += bytes;
    }

    /// <summary>Closes the current file and shifts the generations; the oldest kept one is deleted by the overwrite.</summary>
    private async Task RotateAsync()
    {
        await _writer.FlushAsync().ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
        try
        {
            // Oldest first, so each rename frees the name the next one moves to.
            for (var generation = _rotation.RetainedFiles - 1; generation >= 1; generation--)
            {
                var from = SpoolFile.GenerationPath(Path, generation);
                if (File.Exists(from))
                {
                    File.Move(from, SpoolFile.GenerationPath(Path, generation + 1), overwrite: true);
                }
            }
            File.Move(Path, SpoolFile.GenerationPath(Path, 1), overwrite: true);
            Rotations++;
            _logger.LogInformation("Rotated the event spool {Path} at {Bytes} bytes", Path, _length);
        }
        catch (IOException ex)
        {
            // Could not rotate (a full or read-only disk): keep appending to the current file.
            _logger.LogError(ex, "Rotating the event spool {Path} failed", Path);
        }
        finally
        {
            _writer = OpenWriter();
        }
    }

    /// <summary>Writes everything still queued, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Complete();
        await _pump.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
        _write.Dispose();
    }
}
