using System.Globalization;
using System.Text;
using System.Text.Json;
using Decnet.Core.Text;

namespace Decnet.Core.Export;

/// <summary>
/// Writes an export row by row, values in column order. Rows are built in a small in-memory buffer that
/// goes to the output whenever it holds <see cref="FlushThreshold"/> bytes, so memory stays bounded by one
/// buffer plus the largest row, however many rows follow. The output is written asynchronously only
/// (Kestrel refuses synchronous writes).
/// </summary>
public abstract class ExportWriter : IAsyncDisposable
{
    public const int FlushThreshold = 64 * 1024;

    private readonly Stream _output;

    private protected ExportWriter(Stream output, IReadOnlyList<string> columns)
    {
        _output = output;
        Columns = columns;
    }

    public IReadOnlyList<string> Columns { get; }

    /// <summary>Rows written so far.</summary>
    public long Rows { get; private set; }

    private protected MemoryStream Buffer { get; } = new();

    /// <summary>The column the next value belongs to.</summary>
    private protected int Column { get; private set; }

    public static ExportWriter Create(ExportFormat format, Stream output, IReadOnlyList<string> columns) => format switch
    {
        ExportFormat.Json => new JsonExportWriter(output, columns),
        _ => new CsvExportWriter(output, columns),
    };

    public void BeginRow()
    {
        Column = 0;
        OnBeginRow();
    }

    public void EndRow()
    {
        if (Column != Columns.Count)
        {
            throw new InvalidOperationException($"A row has {Column} values for {Columns.Count} columns.");
        }
        OnEndRow();
        Rows++;
    }

    /// <summary>Attacker-controlled or not, any text: each format escapes it.</summary>
    public void Text(string? value)
    {
        Check();
        WriteText(value);
        Column++;
    }

    public void Number(long value)
    {
        Check();
        WriteNumber(value);
        Column++;
    }

    public void Number(double? value)
    {
        Check();
        WriteNumber(value);
        Column++;
    }

    public void Boolean(bool value)
    {
        Check();
        WriteBoolean(value);
        Column++;
    }

    /// <summary>A UTC time as ISO 8601 with its Z.</summary>
    public void Time(DateTime? utc) =>
        Text(utc is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture) : null);

    /// <summary>A stored JSON value (an object of fields, a payload): nested in JSON, its compact text in CSV.</summary>
    public void Json(string? json)
    {
        Check();
        WriteJson(json);
        Column++;
    }

    /// <summary>A list of names: an array in JSON, one cell joined by spaces in CSV.</summary>
    public void List(IReadOnlyList<string> values)
    {
        Check();
        WriteList(values);
        Column++;
    }

    /// <summary>Sends the buffer once it is full; call after each row.</summary>
    public async ValueTask FlushIfFullAsync(CancellationToken cancellationToken)
    {
        FlushFormatter();
        if (Buffer.Length >= FlushThreshold)
        {
            await SendAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the document (the JSON array) and sends what is left.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        OnComplete();
        FlushFormatter();
        await SendAsync(cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        if (Buffer.Length == 0)
        {
            return;
        }
        await _output.WriteAsync(Buffer.GetBuffer().AsMemory(0, (int)Buffer.Length), cancellationToken).ConfigureAwait(false);
        Buffer.SetLength(0);
        // A single huge row may have grown the buffer: give that memory back.
        if (Buffer.Capacity > 4 * FlushThreshold)
        {
            Buffer.Capacity = FlushThreshold;
        }
    }

    private void Check()
    {
        if (Column >= Columns.Count)
        {
            throw new InvalidOperationException($"More values than the {Columns.Count} columns.");
        }
    }

    private protected abstract void OnBeginRow();

    private protected abstract void OnEndRow();

    private protected abstract void OnComplete();

    private protected abstract void FlushFormatter();

    private protected abstract void WriteText(string? value);

    private protected abstract void WriteNumber(long value);

    private protected abstract void WriteNumber(double? value);

    private protected abstract void WriteBoolean(bool value);

    private protected abstract void WriteJson(string? json);

    private protected abstract void WriteList(IReadOnlyList<string> values);

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// RFC 4180 CSV, UTF-8, CRLF, a header line of the column names. Every text cell is made safe to open:
/// control and invisible characters are written as <c>\uXXXX</c> (a backslash as <c>\\</c>, so the text
/// can be restored exactly) and a record never spans lines; a cell that a spreadsheet would run as a
/// formula (starting with <c>= + - @</c>) gets a leading <c>'</c>; cells with a comma or a quote are quoted.
/// </summary>
public sealed class CsvExportWriter : ExportWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly StreamWriter _text;

    internal CsvExportWriter(Stream output, IReadOnlyList<string> columns)
        : base(output, columns)
    {
        _text = new StreamWriter(Buffer, Utf8, 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        _text.Write(string.Join(',', columns.Select(Cell)));
        _text.Write("\r\n");
    }

    /// <summary>One text cell as it goes into the file.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        var safe = UntrustedText.ForLog(value, int.MaxValue);
        if (safe[0] is '=' or '+' or '-' or '@')
        {
            safe = "'" + safe;
        }
        if (safe.Contains(',', StringComparison.Ordinal) || safe.Contains('"', StringComparison.Ordinal) || safe[0] == ' ' || safe[^1] == ' ')
        {
            safe = "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        }
        return safe;
    }

    private void Separator()
    {
        if (Column > 0)
        {
            _text.Write(',');
        }
    }

    private protected override void OnBeginRow()
    {
    }

    private protected override void OnEndRow() => _text.Write("\r\n");

    private protected override void OnComplete()
    {
    }

    private protected override void FlushFormatter() => _text.Flush();

    private protected override void WriteText(string? value)
    {
        Separator();
        _text.Write(Cell(value));
    }

    private protected override void WriteNumber(long value)
    {
        Separator();
        _text.Write(value.ToString(CultureInfo.InvariantCulture));
    }

    private protected override void WriteNumber(double? value)
    {
        Separator();
        if (value is { } number)
        {
            _text.Write(number.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    private protected override void WriteBoolean(bool value)
    {
        Separator();
        _text.Write(value ? "true" : "false");
    }

    private protected override void WriteJson(string? json) => WriteText(json);

    private protected override void WriteList(IReadOnlyList<string> values) => WriteText(string.Join(' ', values));

    public override async ValueTask DisposeAsync()
    {
        await _text.DisposeAsync().ConfigureAwait(false);
        await Buffer.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// A JSON array of objects keyed by the column names. Strings are escaped by the default encoder (control
/// characters, quotes, &lt; &gt; &amp; and everything outside ASCII as <c>\uXXXX</c>), so the file is safe in
/// any viewer; stored JSON values are parsed and written again through the same encoder, never copied raw.
/// </summary>
public sealed class JsonExportWriter : ExportWriter
{
    private readonly Utf8JsonWriter _json;

    internal JsonExportWriter(Stream output, IReadOnlyList<string> columns)
        : base(output, columns)
    {
        _json = new Utf8JsonWriter(Buffer, new JsonWriterOptions { Indented = false });
        _json.WriteStartArray();
    }

    private string Name => Columns[Column];

    private protected override void OnBeginRow() => _json.WriteStartObject();

    private protected override void OnEndRow() => _json.WriteEndObject();

    private protected override void OnComplete() => _json.WriteEndArray();

    private protected override void FlushFormatter() => _json.Flush();

    private protected override void WriteText(string? value)
    {
        if (value is null)
        {
            _json.WriteNull(Name);
        }
        else
        {
            _json.WriteString(Name, value);
        }
    }

    private protected override void WriteNumber(long value) => _json.WriteNumber(Name, value);

    private protected override void WriteNumber(double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            _json.WriteNumber(Name, number);
        }
        else
        {
            _json.WriteNull(Name);
        }
    }

    private protected override void WriteBoolean(bool value) => _json.WriteBoolean(Name, value);

    private protected override void WriteJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            _json.WriteNull(Name);
            return;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            _json.WritePropertyName(Name);
            document.RootElement.WriteTo(_json);
        }
        catch (JsonException)
        {
            // A row from an older or foreign writer: its text is kept as a string.
            _json.WriteString(Name, json);
        }
    }

    private protected override void WriteList(IReadOnlyList<string> values)
    {
        _json.WriteStartArray(Name);
        foreach (var value in values)
        {
            _json.WriteStringValue(value);
        }
        _json.WriteEndArray();
    }

    public override async ValueTask DisposeAsync()
    {
        await _json.DisposeAsync().ConfigureAwait(false);
        await Buffer.DisposeAsync().ConfigureAwait(false);
    }
}
