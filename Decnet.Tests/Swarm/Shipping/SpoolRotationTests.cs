extern alias agent;

using System.Globalization;
using agent::Decnet.Agent.Logging;
using agent::Decnet.Agent.Spool;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>
/// The agent's spool rotates at its size limit and the forwarder follows the generations: the real
/// <see cref="SpoolEventSink"/>, the real <see cref="LogForwarder"/> and the real master listener with its
/// database, with the master away while the spool rotates several times.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpoolRotationTests : IAsyncLifetime
{
    private readonly TempDirectory _worker = new("decnet-worker");
    private readonly CancellationTokenSource _stop = new();
    private ShippingLab _lab = null!;
    private System.Security.Cryptography.X509Certificates.X509Certificate2 _identity = null!;
    private Task _forwarding = Task.CompletedTask;

    private string Spool => Path.Combine(_worker.Path, "log", "decnet.log");

    public async ValueTask InitializeAsync()
    {
        _lab = await ShippingLab.StartAsync();
        _identity = (await _lab.AddWorkerAsync("worker-a")).Certificate();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _forwarding;
        _stop.Dispose();
        _identity.Dispose();
        await _lab.DisposeAsync();
        _worker.Dispose();
    }

    private LogForwarder StartForwarder()
    {
        var forwarder = new LogForwarder(new LogForwarderSettings
        {
            SpoolPath = Spool,
            CheckpointPath = Path.Combine(_worker.Path, "state", ForwarderCheckpoint.FileName),
            MasterHost = "127.0.0.1",
            MasterPort = _lab.Endpoint.Port,
            Tls = () => PinnedTls.CreateClientOptions(_identity, _lab.Trust, _lab.Master.Fingerprint, targetHost: null),
            MaxBatchLines = 50,
            PollInterval = TimeSpan.FromMilliseconds(50),
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(400),
        }, NullLogger<LogForwarder>.Instance);
        _forwarding = forwarder.RunAsync(_stop.Token);
        return forwarder;
    }

    private static HoneypotEvent Event(int sequence) => new(
        DateTimeOffset.UtcNow, "decky-01", "ssh", "login_attempt",
        [new("src_ip", "203.0.113." + (sequence % 250).ToString(CultureInfo.InvariantCulture)), new("seq", sequence.ToString(CultureInfo.InvariantCulture))]);

    private IEnumerable<string> Generations() =>
        Enumerable.Range(0, SpoolFile.MaxGenerations + 1).Select(g => SpoolFile.GenerationPath(Spool, g)).Where(File.Exists);

    [Fact]
    public async Task The_forwarder_follows_a_rotating_spool_without_losing_or_repeating_a_line()
    {
        const long maxBytes = 16 * 1024;
        const int total = 1200;
        var rotation = new SpoolRotation(maxBytes, RetainedFiles: 30);
        await using var sink = new SpoolEventSink(Spool, NullLogger<SpoolEventSink>.Instance, rotation);
        var forwarder = StartForwarder();

        // A first part while the master is up, the bulk while it is away (the spool rotates behind the
        // forwarder's back), the rest after it is back.
        for (var i = 0; i < 200; i++)
        {
            sink.Publish(Event(i));
        }
        await _lab.WaitForRowsAsync(n => n == 200, TimeSpan.FromSeconds(60));
        await _lab.StopListenerAsync();
        var rotationsBefore = sink.Rotations;
        for (var i = 200; i < 1000; i++)
        {
            sink.Publish(Event(i));
        }
        await ShippingLab.EventuallyAsync(() => sink.Rotations >= rotationsBefore + 5, "the spool rotates several times while the master is away", TimeSpan.FromSeconds(30));
        await _lab.StartListenerAsync();
        for (var i = 1000; i < total; i++)
        {
            sink.Publish(Event(i));
        }

        await _lab.WaitForRowsAsync(n => n >= total, TimeSpan.FromSeconds(90), () => $"forwarder shipped {forwarder.LinesShipped}, failures {forwarder.Failures}");
        var rows = await _lab.RowsAsync();
        var sequences = rows.Select(r => int.Parse(ShippingLab.Field(r, "seq"), CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, total), sequences);

        // Bounded on disk: every generation under the limit, no more generations than kept.
        var files = Generations().ToList();
        Assert.InRange(files.Count, 2, rotation.RetainedFiles + 1);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= maxBytes, $"{f}: {new FileInfo(f).Length} bytes"));
    }

    [Fact]
    public async Task Generations_beyond_the_kept_count_are_deleted_and_the_disk_use_stays_bounded()
    {
        var rotation = new SpoolRotation(4096, RetainedFiles: 3);
        await using (var sink = new SpoolEventSink(Spool, NullLogger<SpoolEventSink>.Instance, rotation))
        {
            for (var i = 0; i < 2000; i++)
            {
                sink.Publish(Event(i));
            }
        }

        var files = Generations().ToList();
        Assert.Equal(4, files.Count);
        Assert.True(files.Sum(f => new FileInfo(f).Length) <= 4 * 4096);
        // Whole lines only, the newest events in the current file.
        Assert.All(files, f => Assert.EndsWith("\n", File.ReadAllText(f), StringComparison.Ordinal));
        Assert.Contains("seq=\"1999\"", File.ReadAllText(Spool), StringComparison.Ordinal);
        Assert.False(File.Exists(SpoolFile.GenerationPath(Spool, 4)));
    }

    [Theory]
    [Trait("Category", TestCategories.Unit)]
    [InlineData("spool-max-mb = 0\nspool-files = 8", "spool-max-mb", 9)]
    [InlineData("spool-max-mb = 64\nspool-files = lots", "spool-files", 10)]
    public void Bad_spool_rotation_settings_are_refused_with_their_line(string keys, string key, int line)
    {
        var ini = $"""
            [decnet]
            log-directory = /var/log/decnet
            [agent]
            name = worker-a
            host-uuid = 6f1c1f0e-0d7e-4f55-9f7e-3b0d6a3c1a11
            master-host = 127.0.0.1
            master-fingerprint = {new string('0', 64)}
            agent-host = 127.0.0.1
            {keys}
            """;

        var error = Assert.Single(Assert.Throws<Decnet.Core.Deckies.IniValidationException>(() => agent::Decnet.Agent.Serve.AgentServeSettings.Parse(ini)).Errors);

        Assert.Equal((line, "agent", key), (error.Line, error.Section, error.Key));
        var parsed = agent::Decnet.Agent.Serve.AgentServeSettings.Parse(ini.Replace(keys, "spool-max-mb = 128\nspool-files = 3", StringComparison.Ordinal));
        Assert.Equal(new SpoolRotation(128L * 1024 * 1024, 3), parsed.SpoolRotation);
    }

    [Fact]
    public void The_agent_log_file_rolls_at_its_size_limit_and_keeps_a_bounded_number_of_files()
    {
        var directory = Path.Combine(_worker.Path, "log");
        using (var loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Information).AddAgentLogFile(directory, "agent", maxBytes: 8 * 1024, retainedFiles: 3)))
        {
            var logger = loggers.CreateLogger("Decnet.Agent");
            for (var i = 0; i < 2000; i++)
            {
                logger.LogWarning("attacker-driven noise {Sequence} {Padding}", i, new string('x', 40));
            }
        }

        var files = Directory.GetFiles(directory, "agent*.log");
        Assert.Equal(3, files.Length);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 8 * 1024 + 512, $"{f}: {new FileInfo(f).Length} bytes"));
        Assert.Contains(files, f => File.ReadAllText(f).Contains("attacker-driven noise 1999", StringComparison.Ordinal));
    }
}
