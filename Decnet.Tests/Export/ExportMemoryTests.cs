using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Attackers;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Tests.Export;

/// <summary>
/// A log export far larger than the memory it may use, from the master as operators run it (a separate
/// Production process): its resident memory is sampled from /proc while the client downloads, and the
/// file is checked row by row by independent readers (Python's csv module, a streaming JSON reader).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ExportMemoryTests
{
    private const int Rows = 150_000;

    /// <summary>
    /// Growth of the master's resident memory allowed during one export (measured: about 45 MB for CSV and
    /// 17 MB for JSON, mostly garbage-collector budget); each export is more than twice as large, and an
    /// export gathered in memory would need several times its size.
    /// </summary>
    private const long MemoryBound = 96L * 1024 * 1024;

    private static readonly DateTime T0 = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private static string RawLine(long n) => $"event {n} " + new string((char)('a' + (int)(n % 26)), 1500);

    [Fact]
    public async Task A_large_log_export_streams_in_bounded_memory_and_holds_every_row_once()
    {
        using var data = new TempDirectory("decnet-big-export");
        var address = ListeningMaster.RandomLoopback();
        var port = MasterProcess.FreePort(address);
        var environment = new Dictionary<string, string>
        {
            ["DECNET_WEB_HOST"] = address.ToString(),
            ["DECNET_WEB_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["DECNET_DATA_DIR"] = data.Path,
            ["DECNET_LOG_DIRECTORY"] = Path.Combine(data.Path, "logs"),
            ["DECNET_ADMIN_PASSWORD"] = CoreTestBed.AdminPassword,
        };
        using var master = MasterProcess.Start(environment,
            ["--Decnet:Runtime:Kind=embedded", "--Decnet:Swarm:Enabled=false", "--Decnet:Users:BcryptWorkFactor=4"]);
        await master.WaitForListeningAsync(address, port, TimeSpan.FromMinutes(3));
        using var client = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}"), Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SignInAsync(client));

        var (first, last) = await SeedAsync(Path.Combine(data.Path, "decnet.db"));
        await WaitForProfilerAsync(Path.Combine(data.Path, "decnet.db"), last);
        // The export path is loaded and compiled before the baseline is taken.
        using (var warm = await client.GetAsync(new Uri("/api/v1/logs/export?search=decky%3Anone", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var csvPath = Path.Combine(data.Path, "export.csv");
        var (csvBytes, csvGrowth) = await MeasureAsync(master.Id, async () =>
        {
            using var response = await client.GetAsync(new Uri("/api/v1/logs/export?format=csv", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var file = File.Create(csvPath);
            await response.Content.CopyToAsync(file);
            return file.Length;
        });
        TestContext.Current.TestOutputHelper?.WriteLine($"CSV export: {csvBytes:N0} bytes, master grew {csvGrowth:N0} bytes");
        Assert.True(csvBytes > 2 * MemoryBound, $"the export is only {csvBytes:N0} bytes");
        Assert.True(csvGrowth < MemoryBound, $"exporting {csvBytes:N0} bytes of CSV grew the master by {csvGrowth:N0} bytes");
        await VerifyCsvAsync(csvPath, first, last);

        long seen = 0;
        var (jsonBytes, jsonGrowth) = await MeasureAsync(master.Id, async () =>
        {
            using var response = await client.GetAsync(new Uri("/api/v1/logs/export?format=json", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var counting = new CountingStream(body);
            var expected = last;
            await foreach (var row in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(counting))
            {
                var id = row.GetProperty("id").GetInt64();
                Assert.Equal(expected--, id);
                Assert.Equal(RawLine(id), row.GetProperty("raw_line").GetString());
                Assert.Equal(id, row.GetProperty("fields").GetProperty("n").GetInt64());
                seen++;
            }
            return counting.Total;
        });
        Assert.Equal(Rows, seen);
        TestContext.Current.TestOutputHelper?.WriteLine($"JSON export: {jsonBytes:N0} bytes, master grew {jsonGrowth:N0} bytes");
        Assert.True(jsonBytes > 2 * MemoryBound, $"the export is only {jsonBytes:N0} bytes");
        Assert.True(jsonGrowth < MemoryBound, $"exporting {jsonBytes:N0} bytes of JSON grew the master by {jsonGrowth:N0} bytes");
    }

    private static async Task<string> SignInAsync(HttpClient client)
    {
        async Task<string> LoginAsync(string password)
        {
            using var response = await ListeningMaster.PostLoginAsync(client, "admin", password);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        }
        var first = await LoginAsync(CoreTestBed.AdminPassword);
        using var change = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/change-password")
        {
            Content = JsonContent.Create(new { old_password = CoreTestBed.AdminPassword, new_password = "export-admin-password-1" }),
        };
        change.Headers.Authorization = new AuthenticationHeaderValue("Bearer", first);
        using (var changed = await client.SendAsync(change))
        {
            Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
        }
        return await LoginAsync("export-admin-password-1");
    }

    private static DecnetDbContext Open(string database) =>
        new(new DbContextOptionsBuilder<DecnetDbContext>().UseSqlite($"Data Source={database};Default Timeout=60").Options);

    /// <summary>Rows written straight into the master's database, as a long-running deployment accumulates them.</summary>
    private static async Task<(long First, long Last)> SeedAsync(string database)
    {
        await using var db = Open(database);
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO logs (Timestamp, Decky, Service, EventType, AttackerIp, RawLine, Fields) VALUES ($t, $d, 'http', 'request', NULL, $r, $f)";
        var time = insert.CreateParameter();
        time.ParameterName = "$t";
        var decky = insert.CreateParameter();
        decky.ParameterName = "$d";
        var raw = insert.CreateParameter();
        raw.ParameterName = "$r";
        var fields = insert.CreateParameter();
        fields.ParameterName = "$f";
        insert.Parameters.AddRange(new[] { time, decky, raw, fields });
        await insert.PrepareAsync();
        long first = 0;
        long last = 0;
        for (var i = 1; i <= Rows; i++)
        {
            // One row per second in insertion order: newest first is highest id first.
            time.Value = T0.AddSeconds(i).ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
            decky.Value = "bulk-" + (i % 10).ToString(CultureInfo.InvariantCulture);
            // The id is not known before the insert; the raw line and fields name the insertion number, which equals it in a fresh table.
            raw.Value = RawLine(i);
            fields.Value = "{\"n\":" + i.ToString(CultureInfo.InvariantCulture) + ",\"path\":\"/wp-login.php\"}";
            await insert.ExecuteNonQueryAsync();
            if (i == 1)
            {
                first = await LastIdAsync(connection, transaction);
            }
        }
        last = await LastIdAsync(connection, transaction);
        await transaction.CommitAsync();
        Assert.Equal((1L, (long)Rows), (first, last));
        return (first, last);
    }

    private static async Task<long> LastIdAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT last_insert_rowid()";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>The attacker profiler reads every new row once; the measurement starts after it is done.</summary>
    private static async Task WaitForProfilerAsync(string database, long last)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            await using var db = Open(database);
            var position = await db.PipelineCursors.AsNoTracking().Where(c => c.Name == AttackerProfiler.CursorName).Select(c => (long?)c.Position).FirstOrDefaultAsync();
            if (position >= last)
            {
                return;
            }
            await Task.Delay(500);
        }
        throw new TimeoutException("The attacker profiler did not reach the seeded rows in 5 minutes.");
    }

    /// <summary>Runs the download while sampling the master's resident memory; returns its result and the peak growth.</summary>
    private static async Task<(long Result, long Growth)> MeasureAsync(int pid, Func<Task<long>> download)
    {
        var baseline = ResidentBytes(pid);
        var peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(pid));
                await Task.Delay(50, CancellationToken.None);
            }
        });
        long result;
        try
        {
            result = await download();
        }
        finally
        {
            await stop.CancelAsync();
            await sampler;
        }
        return (result, Math.Max(peak, ResidentBytes(pid)) - baseline);
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"No VmRSS for process {pid}.");
    }

    /// <summary>Python's csv module reads the file as a stream and checks each record against what was seeded.</summary>
    private static async Task VerifyCsvAsync(string path, long first, long last)
    {
        const string check =
            "import csv, json, sys\n" +
            "first, last = int(sys.argv[2]), int(sys.argv[3])\n" +
            "expected, bad, count = last, [], 0\n" +
            "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n" +
            "    rows = csv.reader(f, strict=True)\n" +
            "    header = next(rows)\n" +
            "    for row in rows:\n" +
            "        n = int(row[0]); count += 1\n" +
            "        raw = 'event %d ' % n + chr(ord('a') + n % 26) * 1500\n" +
            "        if n != expected or row[7] != raw or json.loads(row[6])['n'] != n or not row[2].startswith('bulk-'):\n" +
            "            bad.append(row[0])\n" +
            "        expected -= 1\n" +
            "print(json.dumps({'header': header, 'count': count, 'bad': bad[:5], 'next': expected}))\n";
        var (exitCode, output) = await Clients.RunAsync(PythonCsv.Python, ["-c", check, path, first.ToString(CultureInfo.InvariantCulture), last.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, output);
        using var result = JsonDocument.Parse(output);
        Assert.Equal(Rows, result.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(0, result.RootElement.GetProperty("bad").GetArrayLength());
        Assert.Equal(first - 1, result.RootElement.GetProperty("next").GetInt64());
        Assert.Equal(Decnet.Core.Export.ExportTables.LogColumns, result.RootElement.GetProperty("header").EnumerateArray().Select(c => c.GetString()));
    }

    /// <summary>Counts the bytes a reader takes from the response.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Total { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Total; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Total += read;
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Total += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
