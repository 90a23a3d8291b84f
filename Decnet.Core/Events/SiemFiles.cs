using System.Text;
using System.Text.Json;
using Decnet.Core.Storage;
using Microsoft.Extensions.Options;
using Decnet.Core.Configuration;

namespace Decnet.Core.Events;

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
            .Range(nameof(options.MaxFileBytes), options.MaxFileBytes, 64 * 1024, 64L * 1024 * 1024 * 1024)
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

    private static readonly JsonSerializerOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Lock _gate = new();

    public string Folder => Path.IsPathRooted(options.Value.Directory)
        ? options.Value.Directory
        : Path.Combine(storage.Value.DataPath, options.Value.Directory);

    /// <summary>
    /// Appends the raw lines (stored and rejected) and the JSON records of the stored events, each made by
    /// <see cref="JsonLine"/> beforehand (the ingest makes them while the previous batch is being stored).
    /// </summary>
    public void Write(IEnumerable<string> rawLines, IEnumerable<string> jsonLines)
    {
        var raw = new StringBuilder();
        foreach (var line in rawLines)
        {
            // One record per line: a line break inside a rejected line must not forge a second record.
            raw.Append(line.Replace('\n', ' ').Replace('\r', ' ')).Append('\n');
        }
        var json = new StringBuilder();
        foreach (var line in jsonLines)
        {
            json.Append(line).Append('\n');
        }
        lock (_gate)
        {
            System.IO.Directory.CreateDirectory(Folder);
            Append(RawFileName, raw.ToString());
            Append(JsonFileName, json.ToString());
        }
    }

    /// <summary>The JSON record of one parsed event, without its line break (JSON escapes any inside it).</summary>
    public static string JsonLine(ParsedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256 + e.RawLine.Length * 2);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = s_json.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", e.TimestampUtc.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("decky", e.Decky);
            writer.WriteString("service", e.Service);
            writer.WriteString("event_type", e.EventType);
            writer.WriteString("attacker_ip", e.AttackerIp);
            writer.WriteStartObject("fields");
            foreach (var (key, value) in Fields(e.Fields))
            {
                writer.WriteString(key, value);
            }
            writer.WriteEndObject();
            writer.WriteString("msg", e.Message);
            writer.WriteString("raw_line", e.RawLine);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // Several structured-data elements may repeat a key: the last one wins, as in the database row.
    private static Dictionary<string, string> Fields(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            map[key] = value;
        }
        return map;
    }

    private void Append(string name, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        var path = Path.Combine(Folder, name);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (File.Exists(path) && new FileInfo(path).Length + bytes.Length > options.Value.MaxFileBytes)
        {
            Rotate(path);
        }
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Write(bytes);
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
