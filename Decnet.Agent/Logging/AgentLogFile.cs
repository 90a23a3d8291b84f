using System.Globalization;
using Microsoft.Extensions.Logging;
using Serilog;

namespace Decnet.Agent.Logging;

/// <summary>
/// The worker processes' own diagnostics file, <c>{log-directory}/&lt;name&gt;.log</c> (agent, forwarder,
/// updater), rolled at a size limit with a bounded number of old files, next to the console (the systemd
/// journal, itself bounded). systemd no longer appends stdout to these files: an append-only file fed by a
/// process attackers can make chatty would grow without end.
/// </summary>
public static class AgentLogFile
{
    public const long DefaultMaxBytes = 10L * 1024 * 1024;
    public const int DefaultRetainedFiles = 5;

    /// <summary>Adds the rolling file; the old ones are <c>&lt;name&gt;_001.log</c>, <c>_002</c> ..., at most <paramref name="retainedFiles"/> files in all.</summary>
    public static ILoggingBuilder AddAgentLogFile(this ILoggingBuilder logging, string logDirectory, string name, long maxBytes = DefaultMaxBytes, int retainedFiles = DefaultRetainedFiles)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(retainedFiles, 1);
        Directory.CreateDirectory(logDirectory);
        var logger = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(
                Path.Combine(logDirectory, name + ".log"),
                fileSizeLimitBytes: maxBytes,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: retainedFiles,
                formatProvider: CultureInfo.InvariantCulture)
            .CreateLogger();
        return logging.AddSerilog(logger, dispose: true);
    }
}
