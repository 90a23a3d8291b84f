using System.Text;
using System.Text.Json;
using Decnet.Core.Export;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Export;

/// <summary>What an export file holds when attackers chose the text: read back by independent readers.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class ExportWriterTests
{
    private static readonly string[] Columns = ["id", "text", "fields"];

    /// <summary>Text an attacker can put in a username, a path or a user agent.</summary>
    public static readonly TheoryData<string, string> Hostile = new()
    {
        { "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0" },
        { "+1+1", "'+1+1" },
        { "-2+3", "'-2+3" },
        { "@SUM(A1:A9)", "'@SUM(A1:A9)" },
        { "root", "root" },
        { "a,b", "a,b" },
        { "say \"hi\"", "say \"hi\"" },
        { "line1\r\nline2", "line1\\u000D\\u000Aline2" },
        { "\t=1", "\\u0009=1" },
        { "\u001b[2J\u001b]0;pwned\u0007", "\\u001B[2J\\u001B]0;pwned\\u0007" },
        { "invoice\u202Egpj.exe", "invoice\\u202Egpj.exe" },
        { "C:\\Windows\\system32", "C:\\\\Windows\\\\system32" },
        { " padded ", " padded " },
        { "ünïcødé ✓", "ünïcødé ✓" },
    };

    private static async Task<byte[]> WriteAsync(ExportFormat format, IEnumerable<(long Id, string? Text, string? Fields)> rows)
    {
        using var output = new MemoryStream();
        await using (var writer = ExportWriter.Create(format, output, Columns))
        {
            foreach (var (id, text, fields) in rows)
            {
                writer.BeginRow();
                writer.Number(id);
                writer.Text(text);
                writer.Json(fields);
                writer.EndRow();
                await writer.FlushIfFullAsync(CancellationToken.None);
            }
            await writer.CompleteAsync(CancellationToken.None);
        }
        return output.ToArray();
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_spreadsheet_never_runs_a_csv_cell_and_every_record_is_one_line(string text, string expected)
    {
        var bytes = await WriteAsync(ExportFormat.Csv, [(1, text, "{\"cmd\":" + JsonSerializer.Serialize(text) + "}")]);
        using var file = new TempDirectory("decnet-csv");
        var path = Path.Combine(file.Path, "export.csv");
        await File.WriteAllBytesAsync(path, bytes);

        var records = await PythonCsv.ReadAsync(path);

        Assert.Equal(2, records.Count);
        Assert.Equal(Columns, records[0]);
        Assert.Equal(["1", expected, records[1][2]], records[1]);
        // Header and record: two physical lines, CRLF-terminated; no attacker byte starts a third.
        Assert.Equal(2, Encoding.UTF8.GetString(bytes).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain(bytes, b => b is < 0x20 and not (byte)'\r' and not (byte)'\n');
        // The neutralised cell can be read back to the original exactly (quote prefix and \uXXXX / \\ escapes).
        Assert.Equal(text, Restore(records[1][1]));
    }

    /// <summary>What an analyst's script does to get the attacker's text back from a cell.</summary>
    private static string Restore(string cell)
    {
        if (cell.Length > 1 && cell[0] == '\'' && cell[1] is '=' or '+' or '-' or '@')
        {
            cell = cell[1..];
        }
        var text = new StringBuilder();
        for (var i = 0; i < cell.Length; i++)
        {
            if (cell[i] == '\\' && i + 1 < cell.Length && cell[i + 1] == '\\')
            {
                text.Append('\\');
                i++;
            }
            else if (cell[i] == '\\' && i + 5 < cell.Length && cell[i + 1] == 'u')
            {
                text.Append((char)Convert.ToInt32(cell.Substring(i + 2, 4), 16));
                i += 5;
            }
            else
            {
                text.Append(cell[i]);
            }
        }
        return text.ToString();
    }

    [Fact]
    public async Task Json_export_escapes_attacker_text_and_nests_the_stored_fields()
    {
        var hostile = "</script><script>alert(1)</script>\u001b[31m\u202E";
        var bytes = await WriteAsync(ExportFormat.Json,
        [
            (2, hostile, "{\"username\":\"root\",\"password\":" + JsonSerializer.Serialize(hostile) + ",\"port\":22}"),
            (1, null, "not json {"),
        ]);

        // Nothing the browser or a terminal would act on travels raw.
        var raw = Encoding.UTF8.GetString(bytes);
        Assert.DoesNotContain("<", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(bytes, b => b < 0x20);
        Assert.DoesNotContain(bytes, b => b >= 0x80);

        using var document = JsonDocument.Parse(bytes);
        var rows = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(2, rows[0].GetProperty("id").GetInt64());
        Assert.Equal(hostile, rows[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Object, rows[0].GetProperty("fields").ValueKind);
        Assert.Equal(hostile, rows[0].GetProperty("fields").GetProperty("password").GetString());
        Assert.Equal(22, rows[0].GetProperty("fields").GetProperty("port").GetInt32());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("text").ValueKind);
        // A stored value that is not JSON is kept as its text, not dropped and not spliced in.
        Assert.Equal("not json {", rows[1].GetProperty("fields").GetString());
    }

    [Fact]
    public async Task An_empty_export_is_a_header_or_an_empty_array()
    {
        Assert.Equal("id,text,fields\r\n", Encoding.UTF8.GetString(await WriteAsync(ExportFormat.Csv, [])));
        Assert.Equal("[]", Encoding.UTF8.GetString(await WriteAsync(ExportFormat.Json, [])));
    }

    [Theory]
    [InlineData(ExportFormat.Csv)]
    [InlineData(ExportFormat.Json)]
    public async Task Rows_reach_the_output_while_they_are_written_in_bounded_pieces(ExportFormat format)
    {
        var output = new RecordingStream();
        var big = new string('x', 200_000);
        await using (var writer = ExportWriter.Create(format, output, Columns))
        {
            for (var i = 0; i < 20_000; i++)
            {
                writer.BeginRow();
                writer.Number(i);
                writer.Text(i == 10_000 ? big : "row " + i);
                writer.Json("{\"n\":" + i + "}");
                writer.EndRow();
                await writer.FlushIfFullAsync(CancellationToken.None);
                if (i == 5_000)
                {
                    // Long before the end, most of what was written has left the writer.
                    Assert.True(output.Length > 100_000, $"{output.Length} bytes sent after 5,000 rows");
                }
            }
            await writer.CompleteAsync(CancellationToken.None);
            Assert.Equal(20_000, writer.Rows);
        }
        // No piece is larger than the buffer plus the one row that filled it.
        Assert.All(output.Writes, size => Assert.True(size <= ExportWriter.FlushThreshold + big.Length + 64, $"a write of {size} bytes"));
        // Sent as it filled, not at the end: on average a piece is at most twice the buffer.
        Assert.True(output.Writes.Count >= output.Length / (2 * ExportWriter.FlushThreshold), $"{output.Length:N0} bytes in {output.Writes.Count} writes");
        Assert.Equal(0, output.SynchronousWrites);
    }

    [Fact]
    public async Task A_row_must_fill_every_column()
    {
        await using var writer = ExportWriter.Create(ExportFormat.Csv, new MemoryStream(), Columns);
        writer.BeginRow();
        writer.Number(1);
        Assert.Throws<InvalidOperationException>(writer.EndRow);
    }

    [Theory]
    [InlineData(null, ExportFormat.Csv)]
    [InlineData("CSV", ExportFormat.Csv)]
    [InlineData(" json ", ExportFormat.Json)]
    public void Formats_are_read_from_their_names(string? text, ExportFormat expected)
    {
        Assert.True(ExportFormats.TryParse(text, out var format));
        Assert.Equal(expected, format);
    }

    [Fact]
    public void An_unknown_format_is_refused()
    {
        Assert.False(ExportFormats.TryParse("xlsx", out _));
    }

    [Fact]
    public void Only_so_many_exports_run_at_once_and_a_finished_one_frees_its_slot()
    {
        var gate = new ExportGate();
        var slots = Enumerable.Range(0, ExportGate.MaxConcurrent).Select(_ => gate.TryEnter()).ToList();
        Assert.All(slots, Assert.NotNull);
        Assert.Null(gate.TryEnter());

        slots[0]!.Dispose();
        slots[0]!.Dispose();

        using var next = gate.TryEnter();
        Assert.NotNull(next);
        Assert.Null(gate.TryEnter());
    }

    /// <summary>An output that counts what it receives, as a response body would, and refuses synchronous writes as Kestrel does.</summary>
    private sealed class RecordingStream : Stream
    {
        public List<int> Writes { get; } = [];

        public int SynchronousWrites { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Writes.Sum(w => (long)w);

        public override long Position { get => Length; set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            SynchronousWrites++;
            throw new InvalidOperationException("Synchronous writes are not allowed.");
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed.");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
