using System.Net;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Decides whether a new TCP session may start: the host's own <see cref="SessionAdmission"/>, or in a
/// Docker service container the host-wide admission service shared by every container of every decky.
/// </summary>
public interface ISessionAdmitter
{
    /// <summary>
    /// Takes a slot for a session from <paramref name="source"/> on <paramref name="decky"/>. An admitted
    /// result carries a lease that must be disposed when the session ends. Never throws for a refusal.
    /// </summary>
    ValueTask<SessionAdmit> AdmitAsync(string decky, IPAddress source, CancellationToken cancellationToken);
}

/// <summary>The answer of an <see cref="ISessionAdmitter"/>: a refusal, or a lease to dispose at the session's end.</summary>
public readonly record struct SessionAdmit(AdmissionRefusal Refusal, IDisposable? Lease)
{
    public bool Admitted => Refusal == AdmissionRefusal.None;

    public static SessionAdmit Refused(AdmissionRefusal refusal) => new(refusal, null);
}
