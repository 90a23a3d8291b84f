using System.Diagnostics;
using System.Globalization;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// CPU time (user + system) of the parts of a benchmark that run in other processes, so a rate can be
/// read against who was busy: the client that might be the bound, or a reference server.
/// Read from /proc/&lt;pid&gt;/stat, in clock ticks (10 ms): fine for runs of seconds.
/// </summary>
public static class CpuClock
{
    /// <summary>USER_HZ, the unit of /proc/&lt;pid&gt;/stat's times: 100 on every Linux this runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>
    /// CPU used so far by every child process this process has waited for. .NET reaps the processes it
    /// starts as soon as they exit, so the difference across one <see cref="BenchmarkProcess.RunAsync"/> is
    /// that child's CPU (benchmarks run one at a time).
    /// </summary>
    public static TimeSpan ReapedChildren() => Ticks(Environment.ProcessId, children: true, own: false);

    /// <summary>This process's own CPU so far (every thread).</summary>
    public static TimeSpan Self()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>
    /// CPU of a running process plus the children it has reaped (sshd's per-connection processes, once
    /// their connections end).
    /// </summary>
    public static TimeSpan WithReapedChildren(int pid) => Ticks(pid, children: true, own: true);

    private static TimeSpan Ticks(int pid, bool children, bool own)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: split after its close. The
        // state is then field 3 at index 0, so utime (14), stime (15), cutime (16), cstime (17) sit at 11..14.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = 0;
        if (own)
        {
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        if (children)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
