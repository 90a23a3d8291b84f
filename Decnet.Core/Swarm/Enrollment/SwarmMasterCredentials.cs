using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>
/// The master's swarm CA, its own identity (served on the controller, presented to agents, required
/// from the CLI on <c>/swarm/enroll</c>) and the trust every swarm listener checks peers against.
/// Opened (or created, key 0600) on first use.
/// </summary>
public sealed class SwarmMasterCredentials : IDisposable
{
    private readonly Lazy<State> _state;

    public SwarmMasterCredentials(IOptions<SwarmOptions> options, IOptions<StorageOptions> storage, TimeProvider time)
    {
        var directory = options.Value.ResolveCaDirectory(storage.Value.DataPath);
        _state = new Lazy<State>(() =>
        {
            var authority = SwarmCertificateAuthority.LoadOrCreate(directory, time);
            var identity = authority.GetOrCreateMasterIdentity();
            return new State(authority, identity, identity.ToCertificate(), authority.CreateTrust());
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public SwarmCertificateAuthority Authority => _state.Value.Authority;

    public IssuedIdentity MasterIdentity => _state.Value.Identity;

    /// <summary>The master identity with its key, for Kestrel and outgoing mutual TLS.</summary>
    public X509Certificate2 MasterCertificate => _state.Value.Certificate;

    public string MasterFingerprint => _state.Value.Identity.Fingerprint;

    /// <summary>
    /// Base64 SHA-256 of the master identity's SubjectPublicKeyInfo: what <c>curl --pinnedpubkey sha256//…</c>
    /// checks when a new worker downloads its bundle from the enrollment endpoint.
    /// </summary>
    public string MasterPublicKeyPin => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(_state.Value.Certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    public SwarmTrust Trust => _state.Value.Trust;

    public void Dispose()
    {
        if (_state.IsValueCreated)
        {
            _state.Value.Certificate.Dispose();
            _state.Value.Trust.Dispose();
            _state.Value.Authority.Dispose();
        }
    }

    private sealed record State(SwarmCertificateAuthority Authority, IssuedIdentity Identity, X509Certificate2 Certificate, SwarmTrust Trust);
}
