using System.Net;

namespace Decnet.Core.Honeypots.Hosting;

internal interface IServiceListener : IAsyncDisposable
{
    IPEndPoint EndPoint { get; }

    void Start();

    ListenerStatistics Snapshot();

    /// <summary>After disposal: waits for cut sessions to finish, up to <paramref name="grace"/>.</summary>
    Task WaitForSessionsAsync(TimeSpan grace);
}
