using System.Collections.Concurrent;
using System.Diagnostics;
using Decnet.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Decnet.Tests.Events.Collection;

/// <summary>
/// Crash safety of the ingest, with the master as a separate process: <c>Decnet.Web</c> runs on a real
/// SQLite file and tails a spool file (the durable source: an event is "emitted" once its line is in the
/// file, as with a container's log or an agent's spool). The test appends lines while the process ingests,
/// SIGKILLs it mid-stream twice, starts it again each time, and then counts: every emitted line is
/// exactly one row, none lost, none doubled.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class IngestCrashSafetyTests : IDisposable
{
    private const int Emitted = 30_000;
    private readonly TempDirectory _work = new("decnet-crash");
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _master;

    private string DataDirectory => Path.Combine(_work.Path, "data");
    private string SpoolPath => Path.Combine(_work.Path, "spool", "agent.log");
    private string DatabasePath => Path.Combine(DataDirectory, "decnet.db");
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (_master is { HasExited: false })
        {
            _master.Kill();
            _master.WaitForExit();
        }
        _master?.Dispose();
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Killing_the_master_mid_stream_loses_and_duplicates_nothing()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SpoolPath)!);
        StartMaster();
        var all = SpoolLines.Bytes(0, Emitted, "crash-decky");

        // The feeder appends in uneven pieces (lines are cut in the middle) at a steady pace, like an agent.
        using var feeding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var feeder = Task.Run(async () =>
        {
            var written = 0;
            var piece = 0;
            while (written < all.Length)
            {
                var size = Math.Min(all.Length - written, 9_000 + (piece++ * 7_919 % 20_000));
                SpoolLines.Append(SpoolPath, all.AsSpan(written, size));
                written += size;
                await Task.Delay(15, feeding.Token);
            }
        }, feeding.Token);

        var kills = new List<long>();
        foreach (var fraction in new[] { 0.2, 0.5 })
        {
            await WaitForAsync(() => CountRows() >= Emitted * fraction, $"{fraction:P0} of the rows");
            _master!.Kill();
            await _master.WaitForExitAsync(Token);
            var atKill = CountRows();
            Assert.True(atKill < Emitted, $"the kill came after the last row ({atKill})");
            kills.Add(atKill);
            _master.Dispose();
            StartMaster();
        }
        await feeder;

        await WaitForAsync(() => CountRows() >= Emitted, "all rows");
        // Give a duplicate the time to show up, if the pipeline made one.
        await Task.Delay(2000, Token);

        using var db = Open();
        Assert.Equal(Emitted, Scalar(db, "SELECT COUNT(*) FROM logs WHERE Decky = 'crash-decky'"));
        Assert.Equal(Emitted, Scalar(db, "SELECT COUNT(DISTINCT RawLine) FROM logs WHERE Decky = 'crash-decky'"));
        // Every sequence number 0..N-1 is there once.
        Assert.Equal(Emitted, Scalar(db, "SELECT COUNT(DISTINCT json_extract(Fields, '$.seq')) FROM logs"));
        Assert.Equal(0, Scalar(db, "SELECT MIN(CAST(json_extract(Fields, '$.seq') AS INTEGER)) FROM logs"));
        Assert.Equal(Emitted - 1, Scalar(db, "SELECT MAX(CAST(json_extract(Fields, '$.seq') AS INTEGER)) FROM logs"));
        Assert.Equal(new FileInfo(SpoolPath).Length, Scalar(db, "SELECT Position FROM pipeline_cursors WHERE Name = 'file:agent1'"));
        Assert.All(kills, k => Assert.InRange(k, 1, Emitted - 1));
        TestContext.Current.TestOutputHelper?.WriteLine($"SIGKILLed at {string.Join(" and ", kills)} of {Emitted} rows; {Emitted} rows after the restarts");
    }

    private void StartMaster()
    {
        var dll = MasterAssembly();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Decnet:Storage:DataDirectory"] = DataDirectory,
            ["Decnet:Logging:Directory"] = Path.Combine(_work.Path, "logs"),
            ["Decnet:Users:AdminPassword"] = CoreTestBed.AdminPassword,
            ["Decnet:Users:BcryptWorkFactor"] = "4",
            ["Decnet:Runtime:Kind"] = "embedded",
            ["Decnet:Ingest:Files:0:Name"] = "agent1",
            ["Decnet:Ingest:Files:0:Path"] = SpoolPath,
            ["Decnet:Ingest:PollInterval"] = "00:00:00.050",
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        _master = Process.Start(start) ?? throw new InvalidOperationException("Decnet.Web did not start");
        _master.OutputDataReceived += (_, e) => Keep(e.Data);
        _master.ErrorDataReceived += (_, e) => Keep(e.Data);
        _master.BeginOutputReadLine();
        _master.BeginErrorReadLine();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 40)
        {
            _output.TryDequeue(out _);
        }
    }

    private static string MasterAssembly()
    {
        // Decnet.Web's own build output, same configuration as these tests.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        for (var directory = testOutput; directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "Decnet.Web", "bin", configuration, framework, "Decnet.Web.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("Decnet.Web.dll not found next to " + AppContext.BaseDirectory);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var busy = connection.CreateCommand();
        busy.CommandText = "PRAGMA busy_timeout = 5000";
        busy.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs one of this class's constant queries.</summary>
    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // callers pass only the literal queries above, nothing from outside
        command.CommandText = sql;
#pragma warning restore CA2100
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private long CountRows()
    {
        if (!File.Exists(DatabasePath))
        {
            return 0;
        }
        try
        {
            using var db = Open();
            return Scalar(db, "SELECT COUNT(*) FROM logs");
        }
        catch (SqliteException)
        {
            // Not migrated yet.
            return 0;
        }
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            // Only the test kills the master, and never while waiting.
            if (clock.Elapsed > TimeSpan.FromSeconds(180) || _master is { HasExited: true })
            {
                Assert.Fail($"waited for {what} ({clock.Elapsed.TotalSeconds:0} s, {CountRows()} rows, master exited: {_master?.HasExited}); master output:\n{string.Join('\n', _output)}");
            }
            await Task.Delay(25, Token);
        }
    }
}
