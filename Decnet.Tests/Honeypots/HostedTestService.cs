using System.Net;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// One service of a test decky served by the production <see cref="ServiceHost"/> on an ephemeral
/// loopback port, so service tests go through the same session limits, connect/disconnect events and
/// fault handling as a deployed decky. Faulted sessions are the exceptions the host logged.
/// </summary>
public sealed class HostedTestService : IAsyncDisposable
{
    private readonly ServiceHost _host = new(NullLoggerFactory.Instance);
    private readonly RecordingLoggerProvider _logs;

    private HostedTestService(IHoneypotService service, RecordingLoggerProvider logs)
    {
        Service = service;
        _logs = logs;
    }

    public IHoneypotService Service { get; }
    public HostedDecky Hosted { get; private set; } = null!;
    public IPEndPoint EndPoint { get; private set; } = null!;
    public int Port => EndPoint.Port;

    /// <summary>Exceptions of sessions the host had to log as faulted.</summary>
    public IReadOnlyList<Exception> Errors => [.. _logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Exception is not null).Select(e => e.Exception!)];

    public static async Task<HostedTestService> StartAsync(IHoneypotServiceFactory factory, HoneypotTestContext decky)
    {
        var hosted = new HostedTestService(factory.Create(decky.Context), decky.Logs);
        hosted.Hosted = await hosted._host.StartDeckyAsync(decky.Context.DeckyName, [new HostedServiceBinding(factory.Name, hosted.Service, IPAddress.Loopback, [new ServicePort(0)])]);
        Assert.True(hosted.Hosted.AllBound, string.Join("; ", hosted.Hosted.Bindings));
        hosted.EndPoint = hosted.Hosted.EndPointOf(factory.Name, 0);
        return hosted;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
