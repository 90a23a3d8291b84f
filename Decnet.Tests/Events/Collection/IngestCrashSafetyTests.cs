using System.Collections.Concurrent;
using System.Diagnostics;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Decnet.Tests.Events.Collection;

/// <summary>
/// Crash safety of the ingest, with the master as a separate process: <c>Decnet.Web</c> runs on a real
/// SQLite file, or on a real PostgreSQL database named by its DECNET_DB_* environment, and tails a spool
/// file (the durable source: an event is "emitted" once its line is in the
/// file, as with a container's log or an agent's spool). The test appends lines while the process ingests,
/// SIGKILLs it mid-stream twice, starts it again each time, and then counts: every emitted line is
/// exactly one row, none lost, none doubled.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public abstract class IngestCrashSafetyTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : IngestCrashSafetyTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : IngestCrashSafetyTests(StorageProvider.Postgres);

    private const int Emitted = 30_000;
    private readonly TempDirectory _work = new("decnet-crash");
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _master;
    private PostgresServer? _server;
    private string? _database;

    private string DataDirectory => Path.Combine(_work.Path, "data");
    private string SpoolPath => Path.Combine(_work.Path, "spool", "agent.log");
    // Named through DECNET_DB_PATH, relative to the data folder, as the README documents it.
    private string DatabasePath => Path.Combine(DataDirectory, "crash-ingest.db");
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (provider == StorageProvider.Postgres)
        {
            _server = await PostgresServer.SharedAsync();
            _database = await _server.CreateDatabaseAsync("decnet_crash");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_master is { HasExited: false })
        {
            _master.Kill();
            await _master.WaitForExitAsync();
        }
        _master?.Dispose();
        SqliteConnection.ClearAllPools();
        if (_database is not null)
        {
            await _server!.DropDatabaseAsync(_database);
        }
        _work.Dispose();
        GC.SuppressFinalize(this);
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

        var seq = provider == StorageProvider.Postgres ? "CAST(\"Fields\" ->> 'seq' AS bigint)" : "CAST(json_extract(\"Fields\", '$.seq') AS INTEGER)";
        Assert.Equal(Emitted, Scalar("SELECT COUNT(*) FROM logs WHERE \"Decky\" = 'crash-decky'"));
        Assert.Equal(Emitted, Scalar("SELECT COUNT(DISTINCT \"RawLine\") FROM logs WHERE \"Decky\" = 'crash-decky'"));
        // Every sequence number 0..N-1 is there once.
        Assert.Equal(Emitted, Scalar($"SELECT COUNT(DISTINCT {seq}) FROM logs"));
        Assert.Equal(0, Scalar($"SELECT MIN({seq}) FROM logs"));
        Assert.Equal(Emitted - 1, Scalar($"SELECT MAX({seq}) FROM logs"));
        Assert.Equal(new FileInfo(SpoolPath).Length, Scalar("SELECT \"Position\" FROM pipeline_cursors WHERE \"Name\" = 'file:agent1'"));
        Assert.All(kills, k => Assert.InRange(k, 1, Emitted - 1));
        if (provider == StorageProvider.Sqlite)
        {
            Assert.False(File.Exists(Path.Combine(DataDirectory, "decnet.db")), "DECNET_DB_PATH was ignored: the default database file exists");
        }
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
            // Off the default swarm ports (0.0.0.0:8770, 8771, 6514): the SQLite and PostgreSQL runs go in parallel.
            ["Decnet:Swarm:ControllerUrl"] = "https://127.0.0.1:0",
            ["Decnet:Swarm:EnrollmentUrl"] = "https://127.0.0.1:0",
            ["Decnet:Swarm:SyslogUrl"] = "127.0.0.1:0",
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("DECNET_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }
        if (_database is not null)
        {
            // As an operator configures it: through the documented variables.
            start.Environment["DECNET_DB_TYPE"] = "postgres";
            start.Environment["DECNET_DB_CONNECTION"] = _database;
        }
        else
        {
            start.Environment["DECNET_DB_PATH"] = Path.GetFileName(DatabasePath);
        }
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

    /// <summary>Runs one of this class's constant queries on whichever database the master uses.</summary>
    private long Scalar(string sql)
    {
#pragma warning disable CA2100 // callers pass only the literal queries of this class, nothing from outside
        if (_database is not null)
        {
            using var postgres = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString);
            postgres.Open();
            using var query = new NpgsqlCommand(sql, postgres);
            return Convert.ToInt64(query.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using (var busy = connection.CreateCommand())
        {
            busy.CommandText = "PRAGMA busy_timeout = 5000";
            busy.ExecuteNonQuery();
        }
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
#pragma warning restore CA2100
    }

    private long CountRows()
    {
        if (_database is null && !File.Exists(DatabasePath))
        {
            return 0;
        }
        try
        {
            return Scalar("SELECT COUNT(*) FROM logs");
        }
        catch (Exception ex) when (ex is SqliteException or PostgresException)
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
