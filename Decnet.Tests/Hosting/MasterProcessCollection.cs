using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Hosting;

/// <summary>
/// Tests that start the master as a separate process run one after another: each process migrates a
/// database, hashes passwords and hosts deckies, and two at once only compete for the same two cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MasterProcessCollection : ICollectionFixture<ReadmeMaster>
{
    public const string Name = "Master processes";
}

/// <summary>
/// The master started exactly as the README says (<c>dotnet run --project Decnet.Web</c> from the
/// repository root, Production, no arguments), configured through DECNET_* variables only (and the
/// swarm listeners moved off their fixed ports, see <see cref="MasterProcess.Environment"/>).
/// </summary>
public sealed class ReadmeMaster : IAsyncLifetime
{
    public const string AdminUser = "warden";
    public const string AdminPassword = "first-start-password";
    private readonly TempDirectory _root = new("decnet-readme");

    public MasterProcess Process { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root.Path, "data");
    public string LogDirectory => Path.Combine(_root.Path, "logs");

    public async ValueTask InitializeAsync()
    {
        var (host, port) = MasterProcess.FreeAddress();
        var environment = MasterProcess.Environment(host, port, _root.Path);
        environment["DECNET_ADMIN_USER"] = AdminUser;
        environment["DECNET_ADMIN_PASSWORD"] = AdminPassword;
        Process = await MasterProcess.DotnetRunAsync(environment);
    }

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        _root.Dispose();
    }
}
