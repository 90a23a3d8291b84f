namespace Decnet.Core.Swarm.Enrollment;

/// <summary>
/// The worker build an enrollment bundle ships: the Decnet.Agent output folder, filtered so that
/// nothing of the master (web tree, static assets), no build staging (obj/), no debug symbols, no
/// databases, no keys and no environment settings ever reach a worker.
/// </summary>
public static class AgentBuild
{
    public const string EntryAssembly = "Decnet.Agent.dll";
    private const string MasterAssembly = "Decnet.Web.dll";

    private static readonly string[] ExcludedDirectories = ["obj", "wwwroot", "data", "logs", ".git", "screenshots", "TestResults"];
    private static readonly string[] ExcludedExtensions = [".pdb", ".db", ".db-shm", ".db-wal", ".sqlite", ".key", ".pfx", ".p12", ".log", ".tgz"];

    /// <summary>
    /// The folder to ship: the configured one, else the Decnet.Agent build beside the running master
    /// (an <c>agent/</c> folder in a packaged install, or <c>Decnet.Agent/bin/&lt;config&gt;/&lt;tfm&gt;</c>
    /// in a source tree).
    /// </summary>
    /// <exception cref="InvalidOperationException">No agent build was found, or the folder is the master's own tree.</exception>
    public static string Locate(string? configured, string? baseDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Validate(Path.GetFullPath(configured));
        }
        var start = new DirectoryInfo(baseDirectory ?? AppContext.BaseDirectory);
        var beside = Path.Combine(start.FullName, "agent");
        if (File.Exists(Path.Combine(beside, EntryAssembly)))
        {
            return Validate(beside);
        }
        // Source tree: .../Decnet.Web/bin/Debug/net10.0 -> .../Decnet.Agent/bin/Debug/net10.0.
        var tfm = start.Name;
        var configuration = start.Parent?.Name;
        for (var directory = start; directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "Decnet.Agent", "bin", configuration ?? "Debug", tfm);
            if (File.Exists(Path.Combine(candidate, EntryAssembly)))
            {
                return Validate(candidate);
            }
        }
        throw new InvalidOperationException($"No worker build found next to {start.FullName}: publish Decnet.Agent and set Decnet:Swarm:AgentBuildDirectory.");
    }

    /// <summary>Every file of the build that may ship, as (absolute path, path inside the release).</summary>
    public static IEnumerable<(string Path, string RelativePath)> Files(string buildDirectory)
    {
        var root = Validate(Path.GetFullPath(buildDirectory));
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
            {
                var info = new DirectoryInfo(sub);
                if (info.LinkTarget is null && !ExcludedDirectories.Contains(info.Name, StringComparer.OrdinalIgnoreCase))
                {
                    pending.Push(sub);
                }
            }
            foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                if (info.LinkTarget is null && Ships(info.Name))
                {
                    yield return (file, Path.GetRelativePath(root, file).Replace('\\', '/'));
                }
            }
        }
    }

    /// <summary>Whether a file of the agent build may go to a worker.</summary>
    public static bool Ships(string fileName)
    {
        if (fileName.StartsWith("Decnet.Web", StringComparison.OrdinalIgnoreCase)
            || fileName.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase)
            || fileName.StartsWith(".env", StringComparison.OrdinalIgnoreCase)
            || fileName.Equals("decnet.ini", StringComparison.OrdinalIgnoreCase)
            || fileName.Contains(".staticwebassets.", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return !ExcludedExtensions.Any(e => fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    private static string Validate(string directory)
    {
        if (!File.Exists(Path.Combine(directory, EntryAssembly)))
        {
            throw new InvalidOperationException($"{directory} is not a worker build: {EntryAssembly} is missing.");
        }
        if (File.Exists(Path.Combine(directory, MasterAssembly)))
        {
            // A folder holding the master is never shipped, whatever the filters would keep.
            throw new InvalidOperationException($"{directory} holds the master ({MasterAssembly}); point Decnet:Swarm:AgentBuildDirectory at the published Decnet.Agent folder.");
        }
        return directory;
    }
}
