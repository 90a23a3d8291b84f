using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>
/// A master for log shipping tests: a real migrated database with the real ingester, a swarm CA with
/// the master identity, swarm host rows, and the real listener on 127.0.0.1 (stoppable and restartable
/// on the same port).
/// </summary>
public sealed class ShippingLab : IAsyncDisposable
{
    private readonly TempDirectory _caDirectory = new("decnet-ca");
    private readonly X509Certificate2 _masterCertificate;

    private ShippingLab(CoreTestBed bed, string? caDirectory)
    {
        Bed = bed;
        Authority = SwarmCertificateAuthority.LoadOrCreate(caDirectory ?? _caDirectory.Path);
        Master = Authority.GetOrCreateMasterIdentity();
        _masterCertificate = Master.ToCertificate();
        Trust = Authority.CreateTrust();
        Peers = new SwarmOverview(DbFactory, TimeProvider.System);
    }

    public CoreTestBed Bed { get; }
    public SwarmCertificateAuthority Authority { get; }
    public IssuedIdentity Master { get; }
    public SwarmTrust Trust { get; }
    public SwarmOverview Peers { get; }
    public SwarmLogListener? Listener { get; private set; }
    public SwarmSecurityEvents SecurityEvents => Bed.Services.GetRequiredService<SwarmSecurityEvents>();
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);
    public IDbContextFactory<DecnetDbContext> DbFactory => Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();

    /// <param name="caDirectory">An existing swarm CA folder (a sandboxed agent's master), else a new CA.</param>
    public static async Task<ShippingLab> StartAsync(SwarmLogListenerSettings? settings = null, string? caDirectory = null)
    {
        var lab = new ShippingLab(await CoreTestBed.StartAsync(), caDirectory);
        await lab.StartListenerAsync(settings);
        return lab;
    }

    /// <summary>Starts a fresh listener (and its ingest loop), on the previous port after a restart.</summary>
    public Task StartListenerAsync(SwarmLogListenerSettings? settings = null)
    {
        Listener = new SwarmLogListener(settings ?? new SwarmLogListenerSettings(), _masterCertificate,
            new SwarmGate(() => Trust, Bed.Services.GetRequiredService<SwarmRevocations>(), Bed.Services.GetRequiredService<SwarmSecurityEvents>()), Peers,
            Bed.Services.GetRequiredService<EventIngester>(), NullLogger<SwarmLogListener>.Instance);
        Endpoint = Listener.Start(Endpoint);
        return Task.CompletedTask;
    }

    public async Task StopListenerAsync()
    {
        if (Listener is not null)
        {
            await Listener.DisposeAsync();
            Listener = null;
        }
    }

    /// <summary>Issues a worker certificate and, unless <paramref name="status"/> is null, enrolls its host row.</summary>
    public async Task<Worker> AddWorkerAsync(string name, string? status = SwarmHostStatus.Active, bool tombstone = false)
    {
        var identity = Authority.IssueWorker(name, ["127.0.0.1"]);
        await using var db = await DbFactory.CreateDbContextAsync();
        if (status is not null)
        {
            db.SwarmHosts.Add(new SwarmHost { Name = name, Address = "127.0.0.1", ClientCertFingerprint = identity.Fingerprint, Status = status });
        }
        await db.SaveChangesAsync();
        if (tombstone)
        {
            // Through the write store, as a decommission does: the handshake gate learns it too.
            await Bed.Services.GetRequiredService<SwarmStore>().TombstoneAsync(identity.Fingerprint, name, "decommissioned", CancellationToken.None);
        }
        return new Worker(name, identity);
    }

    /// <summary>Enrolls an active host for a worker certificate issued elsewhere (a sandboxed agent's).</summary>
    public async Task AddHostAsync(string name, string fingerprint)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        db.SwarmHosts.Add(new SwarmHost { Name = name, Address = "127.0.0.1", ClientCertFingerprint = fingerprint, Status = SwarmHostStatus.Active });
        await db.SaveChangesAsync();
    }

    /// <summary>What the worker's forwarder presents: its identity, pinned on the master.</summary>
    public SslClientAuthenticationOptions ClientOptions(X509Certificate2? identity) => identity is null
        ? new SslClientAuthenticationOptions
        {
            TargetHost = SwarmCertificateAuthority.MasterCommonName,
            EnabledSslProtocols = PinnedTls.Protocols,
            RemoteCertificateValidationCallback = (_, c, _, _) => PinnedTls.IsExpectedServer(c, Trust, Master.Fingerprint),
        }
        : PinnedTls.CreateClientOptions(identity, Trust, Master.Fingerprint, targetHost: null);

    /// <summary>Ships one batch; true when the master acknowledged it, false when it refused the connection.</summary>
    public async Task<bool> TryShipAsync(X509Certificate2? identity, SpoolBatch batch)
    {
        try
        {
            await using var connection = await LogShippingConnection.ConnectAsync("127.0.0.1", Endpoint.Port, ClientOptions(identity), TimeSpan.FromSeconds(10), CancellationToken.None);
            await connection.SendBatchAsync(batch, TimeSpan.FromSeconds(30), CancellationToken.None);
            return true;
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async Task<List<LogEntry>> RowsAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        return await db.Logs.AsNoTracking().OrderBy(l => l.Id).ToListAsync();
    }

    public async Task<int> CountAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        return await db.Logs.CountAsync();
    }

    /// <summary>Polls the database (never a fixed sleep) until the condition holds or the deadline passes.</summary>
    public async Task WaitForRowsAsync(Func<int, bool> condition, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        int count;
        while (!condition(count = await CountAsync()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"rows: {count}; {diagnostics?.Invoke()}");
            await Task.Delay(50);
        }
    }

    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"never happened: {what}");
            await Task.Delay(20);
        }
    }

    public static string Field(LogEntry row, string name) =>
        JsonDocument.Parse(row.Fields).RootElement.TryGetProperty(name, out var value) ? value.GetString() ?? "" : "";

    /// <summary>An RFC 5424 line as a decky on the worker writes it (one per event).</summary>
    public static string Line(int sequence, string decky = "decky-01", string extraStructuredData = "") => string.Create(CultureInfo.InvariantCulture,
        $"<134>1 2026-04-18T10:00:{sequence % 60:00}.{sequence:000000}Z {decky} ssh - login_attempt [relay@55555 src_ip=\"203.0.113.{sequence % 250}\" seq=\"{sequence}\"{extraStructuredData}] attempt {sequence}\n");

    /// <summary>A batch as the forwarder reads it from a spool holding exactly these lines.</summary>
    public static SpoolBatch Batch(string fileId, long start, params string[] lines)
    {
        var frames = lines.Select(Encoding.UTF8.GetBytes).ToList();
        return new SpoolBatch(fileId, start, start + frames.Sum(f => f.Length), frames, false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopListenerAsync();
        _masterCertificate.Dispose();
        Trust.Dispose();
        Authority.Dispose();
        await Bed.DisposeAsync();
        _caDirectory.Dispose();
    }
}

public sealed record Worker(string Name, IssuedIdentity Identity)
{
    public X509Certificate2 Certificate() => Identity.ToCertificate();
}
