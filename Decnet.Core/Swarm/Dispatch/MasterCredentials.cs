using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// What the master presents to agents (its <c>decnet-master</c> identity) and what it trusts (the swarm
/// CA), loaded on first use from <c>Decnet:Swarm:CaDirectory</c> (default <c>{data}/swarm/ca</c>), so a
/// master that never talks to a worker never touches the CA folder.
/// </summary>
public sealed class MasterCredentials : IDisposable
{
    public const string CaDirectoryKey = "Decnet:Swarm:CaDirectory";

    private readonly Lazy<(X509Certificate2 Identity, SwarmTrust Trust)> _loaded;

    public MasterCredentials(IConfiguration configuration, IOptions<StorageOptions> storage, TimeProvider time)
    {
        CaDirectory = configuration[CaDirectoryKey] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(storage.Value.DataPath, "swarm", "ca");
        _loaded = new(() =>
        {
            using var ca = SwarmCertificateAuthority.LoadOrCreate(CaDirectory, time);
            return (ca.GetOrCreateMasterIdentity().ToCertificate(), ca.CreateTrust());
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string CaDirectory { get; }

    /// <summary>The master's client certificate with its key (owned here: do not dispose).</summary>
    public X509Certificate2 Identity => _loaded.Value.Identity;

    public SwarmTrust Trust => _loaded.Value.Trust;

    public void Dispose()
    {
        if (_loaded.IsValueCreated)
        {
            _loaded.Value.Identity.Dispose();
            _loaded.Value.Trust.Dispose();
        }
    }
}
