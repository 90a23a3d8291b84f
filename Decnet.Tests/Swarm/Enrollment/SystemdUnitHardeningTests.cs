using System.Globalization;
using System.Text.RegularExpressions;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Tests.Honeypots;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The worker units as the bundle renders them, checked by systemd's own tools: <c>systemd-analyze verify</c>
/// must accept every line, and the offline security analysis must find them confined (no new privileges,
/// read-only system, memory cap, only the capabilities each process uses).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class SystemdUnitHardeningTests : IDisposable
{
    private readonly TempDirectory _root = new("decnet-units");

    public void Dispose() => _root.Dispose();

    public static TheoryData<string, string[], string, double> Units => new()
    {
        { WorkerBundle.AgentUnit, ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"], "2G", 4.5 },
        { WorkerBundle.ForwarderUnit, [], "256M", 4.0 },
        { WorkerBundle.UpdaterUnit, [], "1G", 4.0 },
    };

    private string Render(string unit)
    {
        var settings = new AgentHostSettings
        {
            Name = "worker-a",
            HostUuid = Guid.NewGuid(),
            MasterHost = "master.lab",
            MasterFingerprint = new string('0', 64),
            InstallDirectory = Path.Combine(_root.Path, "opt", "decnet"),
            LogDirectory = Path.Combine(_root.Path, "log"),
            StateDirectory = Path.Combine(_root.Path, "state"),
        };
        // verify checks that ExecStart's program exists and is executable, as on a real worker.
        var program = Path.Combine(settings.InstallDirectory, "current", "Decnet.Agent");
        Directory.CreateDirectory(Path.GetDirectoryName(program)!);
        File.WriteAllText(program, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.CreateDirectory(settings.LogDirectory);
        Directory.CreateDirectory(settings.StateDirectory);
        var path = Path.Combine(_root.Path, unit);
        File.WriteAllText(path, WorkerBundle.RenderUnit(unit, settings));
        return path;
    }

    private static Dictionary<string, string> Directives(string path) =>
        File.ReadAllLines(path)
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.TrimStart().StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .GroupBy(p => p[0].Trim())
            .ToDictionary(g => g.Key, g => g.Last()[1].Trim());

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Each_unit_passes_systemd_analyze_and_is_confined(string unit, string[] capabilities, string memoryMax, double maxExposure)
    {
        var path = Render(unit);

        var verify = await RealClient.RunAsync("systemd-analyze", ["verify", path]);
        Assert.True(verify.ExitCode == 0 && verify.StdErr.Length == 0, $"systemd-analyze verify: {verify.StdErr}");

        var directives = Directives(path);
        Assert.Equal("yes", directives["NoNewPrivileges"]);
        Assert.Equal("strict", directives["ProtectSystem"]);
        Assert.Equal(memoryMax, directives["MemoryMax"]);
        Assert.Equal(capabilities, directives["CapabilityBoundingSet"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("append:", File.ReadAllText(path), StringComparison.Ordinal);

        // systemd's own judgement of the confinement: 0 is fully locked down, 10 is unconfined.
        var security = await RealClient.RunAsync("systemd-analyze", ["security", "--offline=yes", "--no-pager", path]);
        Assert.True(security.ExitCode == 0, security.StdErr);
        var exposure = double.Parse(ExposurePattern().Match(security.StdOut).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(exposure <= maxExposure, $"{unit}: exposure {exposure} above {maxExposure}\n{security.StdOut}");
        Assert.Contains("✓ NoNewPrivileges=", security.StdOut, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9.]+)")]
    private static partial Regex ExposurePattern();
}
