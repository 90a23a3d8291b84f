using System.Diagnostics;
using System.Net;
using Npgsql;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package) for the tests of the Postgres storage provider,
/// started once per test process by <c>deploy/postgres/start-test-server.sh</c>: initdb + pg_ctl on a temp
/// data folder, a random 127.x.y.z address and a free port, password authentication, run as the
/// <c>postgres</c> user when the tests run as root. Each test bed gets a database of its own
/// (<see cref="CreateDatabaseAsync"/>), dropped when it is done. The server stops when the test process
/// exits; a server left behind by a killed run (its owner process gone) is stopped by the next run.
/// Where PostgreSQL cannot be had, tests skip with the reason, except under CI=true, where they fail.
/// </summary>
public sealed class PostgresServer
{
    private const string FolderPrefix = "decnet-pg-";
    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartAsync(durable: false));
    private readonly string _folder;

    private PostgresServer(string folder, string? connectionString, string? unavailable)
    {
        _folder = folder;
        ServerConnectionString = connectionString ?? string.Empty;
        Unavailable = unavailable;
    }

    /// <summary>Why there is no server, or null.</summary>
    public string? Unavailable { get; }

    /// <summary>Host, port, user and password; no database.</summary>
    public string ServerConnectionString { get; }

    /// <summary>The server every test of this process shares (fsync off: test data need not survive a power cut).</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A server of its own with PostgreSQL's stock durability, for benchmarks; stop it with <see cref="StopAsync"/>.</summary>
    public static Task<PostgresServer> StartDurableAsync() => StartAsync(durable: true);

    /// <summary>Skips the test with the reason, or fails it under CI, where nothing that can be installed may be skipped.</summary>
    public void Require()
    {
        if (Unavailable is null)
        {
            return;
        }
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("PostgreSQL tests cannot run: " + Unavailable);
        }
        Assert.Skip("SKIPPED LOUDLY: the PostgreSQL storage tests need Debian's postgresql package: " + Unavailable);
    }

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "decnet")
    {
        Require();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];
        await using var connection = new NpgsqlConnection(Maintenance());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // The name is made here of [a-z0-9_] only; CREATE DATABASE takes no parameters.
#pragma warning disable CA2100
        command.CommandText = $"CREATE DATABASE \"{name}\"";
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops the database of <paramref name="connectionString"/>, closing whatever still uses it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Maintenance());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // a name this class made
        command.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops this server and removes its folder (the shared one stops by itself at process exit).</summary>
    public async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync("stop-test-server.sh", [_folder, "--purge"]);
    }

    private string Maintenance() => new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;

    private static async Task<PostgresServer> StartAsync(bool durable)
    {
        await StopAbandonedAsync();
        var folder = Path.Combine(Path.GetTempPath(), FolderPrefix + Guid.NewGuid().ToString("N")[..10]);
        var address = new IPAddress([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(2, 255)]);
        var port = MasterProcess.FreePort(IPAddress.Loopback);
        string[] arguments = durable ? [folder, address.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--durable"]
            : [folder, address.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var (exitCode, output, error) = await RunAsync("start-test-server.sh", arguments);
        if (exitCode != 0)
        {
            return new PostgresServer(folder, null, $"start-test-server.sh exited with {exitCode}: {error.Trim()}");
        }
        if (!durable)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAsync("stop-test-server.sh", [folder, "--purge"]).GetAwaiter().GetResult();
        }
        return new PostgresServer(folder, output.Trim().Split('\n')[^1], null);
    }

    /// <summary>Servers of earlier test processes that were killed before they could stop them.</summary>
    private static async Task StopAbandonedAsync()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var owner = Path.Combine(folder, "owner.pid");
            if (File.Exists(owner) && int.TryParse(File.ReadAllText(owner).Trim(), out var pid) && !IsRunning(pid))
            {
                await RunAsync("stop-test-server.sh", [folder, "--purge"]);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string script, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepoRoot(), "deploy", "postgres", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DECNET_TEST_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static string RepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Decnet.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Decnet.sln not found above " + AppContext.BaseDirectory);
    }
}
