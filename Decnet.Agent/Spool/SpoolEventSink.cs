using System.Text;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Spool;

/// <summary>
/// The worker's local event spool: every decky event becomes one RFC 5424 line appended to
/// <c>{log-directory}/decnet.log</c>, flushed after each batch. The file is append-only (never rotated or
/// truncated here) because the log forwarder ships it by byte offset: a line written is a line that
/// will be shipped. Publishing only enqueues, so attacker sessions never wait on the disk; the queue is
/// bounded (an attacker can reach it) and counts what it had to drop.
/// </summary>
public sealed class SpoolEventSink : IHoneypotEventSink, IAsyncDisposable
{
    public const int Capacity = 100_000;

    private readonly ChannelEventSink _queue = new(Capacity);

    // The pump and the container log lines (AppendLinesAsync) share the writer, one batch at a time.
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly StreamWriter _writer;
    private readonly ILogger _logger;
    private readonly Task _pump;

    public SpoolEventSink(string path, ILogger<SpoolEventSink> logger)
    {
        Path = path;
        _logger = logger;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        // Append only; readers (the forwarder) and a self-destruct may open or unlink it meanwhile.
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024, useAsync: true);
        _writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n", AutoFlush = false };
        _pump = Task.Run(PumpAsync);
    }

    public string Path { get; }

    public long DroppedCount => _queue.DroppedCount;

    public void Publish(HoneypotEvent honeypotEvent) => _queue.Publish(honeypotEvent);

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
                    await _writer.WriteLineAsync(Rfc5424Formatter.Format(honeypotEvent)).ConfigureAwait(false);
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
                await _writer.WriteLineAsync(line.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)).ConfigureAwait(false);
            }
            await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _write.Release();
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
