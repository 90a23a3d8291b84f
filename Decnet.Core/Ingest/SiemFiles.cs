using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Decnet.Core.Storage;
using Microsoft.Extensions.Options;
using Decnet.Core.Configuration;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest;

public sealed class SiemFileOptions
{
    public const string Section = "Decnet:Events:Siem";

    /// <summary>Folder of <c>decnet.log</c> (raw RFC 5424 lines) and <c>decnet.json</c> (one parsed event per line); relative to the data folder.</summary>
    public string Directory { get; set; } = "siem";

    /// <summary>A file is rotated (decnet.log → decnet.log.1 ...) when it would grow past this size.</summary>
    public long MaxFileBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Rotated files kept per stream.</summary>
    public int MaxFiles { get; set; } = 5;
}

/// <summary>Every problem with <c>Decnet:Events:Siem</c> at once, each with its key.</summary>
public sealed class SiemFileOptionsValidator : IValidateOptions<SiemFileOptions>
{
    public ValidateOptionsResult Validate(string? name, SiemFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(SiemFileOptions.Section)
            .Required(nameof(options.Directory), options.Directory)
            .Range(nameof(options.MaxFileBytes), options.MaxFileBytes, 1024, 64L * 1024 * 1024 * 1024)
            .Range(nameof(options.MaxFiles), options.MaxFiles, 1, 1000);
        if (options.Directory?.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add(nameof(options.Directory), "contains a character a path cannot hold.");
        }
        return problems.Result();
    }
}

/// <summary>
/// The feeds a SIEM tails: every raw line the pipeline accepted or rejected goes to <c>decnet.log</c>,
/// every stored event to <c>decnet.json</c>. Written after the database commit, so a file never holds an
/// event the database lost; size-rotated so the disk stays bounded.
/// </summary>
public sealed class SiemFiles(IOptions<SiemFileOptions> options, IOptions<StorageOptions> storage)
{
    public const string RawFileName = "decnet.log";
    public const string JsonFileName = "decnet.json";

    private readonly Lock _gate = new();

    public string Folder => Path.IsPathRooted(options.Value.Directory)
        ? options.Value.Directory
        : Path.Combine(storage.Value.DataPath, options.Value.Directory);

    /// <summary>
    /// Appends the raw lines (stored and rejected) and the JSON records of the stored events, each made by
    /// <see cref="JsonLine"/> beforehand (the ingest makes them while the previous batch is being stored).
    /// </summary>
    public void Write(IReadOnlyList<string> rawLines, IReadOnlyList<string> jsonLines)
    {
        ArgumentNullException.ThrowIfNull(rawLines);
        ArgumentNullException.ThrowIfNull(jsonLines);
        lock (_gate)
        {
            System.IO.Directory.CreateDirectory(Folder);
            // One record per line: a line break inside a rejected line must not forge a second record.
            Append(RawFileName, rawLines, flattenBreaks: true);
            Append(JsonFileName, jsonLines, flattenBreaks: false);
        }
    }

    /// <summary>The JSON record of one parsed event, without its line break (JSON escapes any inside it).</summary>
    public static string JsonLine(ParsedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var writer = JsonScratch.Start();
        writer.WriteStartObject();
        Span<char> timestamp = stackalloc char[40];
        writer.WriteString("timestamp", e.TimestampUtc.TryFormat(timestamp, out var written, "O", CultureInfo.InvariantCulture)
            ? timestamp[..written]
            : e.TimestampUtc.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteString("decky", e.Decky);
        writer.WriteString("service", e.Service);
        writer.WriteString("event_type", e.EventType);
        writer.WriteString("attacker_ip", e.AttackerIp);
        writer.WriteStartObject("fields");
        WriteFields(writer, e.Fields);
        writer.WriteEndObject();
        writer.WriteString("msg", e.Message);
        writer.WriteString("raw_line", e.RawLine);
        writer.WriteEndObject();
        return JsonScratch.Finish();
    }

    /// <summary>
    /// Several structured-data elements may repeat a key: each key once, where it first appears, with the
    /// value of its last occurrence. A few fields are matched by scanning; many (an attacker's line) by a dictionary.
    /// </summary>
    private static void WriteFields(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (fields.Count > EventIngester.LinearScanFields)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in fields)
            {
                map[key] = value;
            }
            foreach (var (key, value) in map)
            {
                writer.WriteString(key, value);
            }
            return;
        }
        for (var i = 0; i < fields.Count; i++)
        {
            var key = fields[i].Key;
            var first = true;
            for (var j = 0; j < i && first; j++)
            {
                first = !string.Equals(fields[j].Key, key, StringComparison.Ordinal);
            }
            if (!first)
            {
                continue;
            }
            var value = fields[i].Value;
            for (var j = i + 1; j < fields.Count; j++)
            {
                if (string.Equals(fields[j].Key, key, StringComparison.Ordinal))
                {
                    value = fields[j].Value;
                }
            }
            writer.WriteString(key, value);
        }
    }

    /// <summary>
    /// The batch's lines as UTF-8 in one pooled buffer and one write: no batch-sized string or array per
    /// batch (megabytes each, on the large object heap, at thousands of rows a second).
    /// </summary>
    private void Append(string name, IReadOnlyList<string> lines, bool flattenBreaks)
    {
        if (lines.Count == 0)
        {
            return;
        }
        var size = 0L;
        foreach (var line in lines)
        {
            size += Encoding.UTF8.GetByteCount(line) + 1;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(checked((int)size));
        try
        {
            var written = 0;
            foreach (var line in lines)
            {
                var bytes = buffer.AsSpan(written, Encoding.UTF8.GetBytes(line, buffer.AsSpan(written)));
                if (flattenBreaks)
                {
                    // In UTF-8 these two bytes only ever stand for the characters themselves.
                    bytes.Replace((byte)'\n', (byte)' ');
                    bytes.Replace((byte)'\r', (byte)' ');
                }
                written += bytes.Length;
                buffer[written++] = (byte)'\n';
            }
            var path = Path.Combine(Folder, name);
            if (File.Exists(path) && new FileInfo(path).Length + written > options.Value.MaxFileBytes)
            {
                Rotate(path);
            }
            using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            stream.Write(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Rotate(string path)
    {
        var keep = Math.Max(1, options.Value.MaxFiles);
        File.Delete($"{path}.{keep}");
        for (var i = keep - 1; i >= 1; i--)
        {
            if (File.Exists($"{path}.{i}"))
            {
                File.Move($"{path}.{i}", $"{path}.{i + 1}");
            }
        }
        File.Move(path, $"{path}.1");
    }
}
