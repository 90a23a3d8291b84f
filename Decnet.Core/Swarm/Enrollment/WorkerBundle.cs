using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>What goes into one worker's bundle.</summary>
public sealed record WorkerBundleContent(
    string AgentBuildDirectory,
    AgentHostSettings Settings,
    string CaCertificatePem,
    IssuedIdentity Worker,
    IssuedIdentity? Updater,
    string? ServicesIni);

/// <summary>
/// Writes the gzip tarball a new worker installs from. Layout: <c>release/</c> (the worker build only),
/// <c>etc/decnet/decnet.ini</c> (+ <c>services.ini</c>), <c>etc/decnet/agent/{ca.crt,worker.crt,worker.key}</c>
/// (+ <c>etc/decnet/updater/</c>) and <c>etc/systemd/system/decnet-*.service</c>. Keys are 0600 inside the
/// archive as well. The bootstrap script is served beside it, not inside: it carries the archive's SHA-256.
/// </summary>
public static class WorkerBundle
{
    public const string ReleaseFolder = "release/";
    public const string AgentUnit = "decnet-agent.service";
    public const string ForwarderUnit = "decnet-forwarder.service";
    public const string UpdaterUnit = "decnet-updater.service";

    private const UnixFileMode Secret = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Public = Secret | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = Public | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The units a worker enables: agent and forwarder, plus the updater when it was enrolled.</summary>
    public static IReadOnlyList<string> Units(bool withUpdater) => withUpdater ? [AgentUnit, ForwarderUnit, UpdaterUnit] : [AgentUnit, ForwarderUnit];

    public static void Write(Stream output, WorkerBundleContent content, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);

        foreach (var (path, relative) in AgentBuild.Files(content.AgentBuildDirectory))
        {
            var mode = relative is "Decnet.Agent" ? Executable : Public;
            using var data = File.OpenRead(path);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, ReleaseFolder + relative) { DataStream = data, Mode = mode, ModificationTime = timestamp });
        }

        Add(tar, "etc/decnet/decnet.ini", content.Settings.ToIni(), Secret, timestamp);
        if (!string.IsNullOrWhiteSpace(content.ServicesIni))
        {
            Add(tar, "etc/decnet/services.ini", content.ServicesIni, Secret, timestamp);
        }
        Add(tar, "etc/decnet/agent/ca.crt", content.CaCertificatePem, Public, timestamp);
        Add(tar, "etc/decnet/agent/worker.crt", content.Worker.CertificatePem, Public, timestamp);
        Add(tar, "etc/decnet/agent/worker.key", content.Worker.PrivateKeyPem, Secret, timestamp);
        if (content.Updater is { } updater)
        {
            Add(tar, "etc/decnet/updater/ca.crt", content.CaCertificatePem, Public, timestamp);
            Add(tar, "etc/decnet/updater/updater.crt", updater.CertificatePem, Public, timestamp);
            Add(tar, "etc/decnet/updater/updater.key", updater.PrivateKeyPem, Secret, timestamp);
        }
        foreach (var unit in Units(content.Updater is not null))
        {
            Add(tar, "etc/systemd/system/" + unit, RenderUnit(unit, content.Settings), Public, timestamp);
        }
    }

    /// <summary>A systemd unit from <c>deploy/systemd</c>, rendered for this worker.</summary>
    public static string RenderUnit(string unit, AgentHostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Render(Template("Decnet.Swarm.Units." + unit), new Dictionary<string, string>
        {
            ["AGENT_NAME"] = settings.Name,
            ["MASTER_HOST"] = settings.MasterHost,
            ["SYSLOG_PORT"] = settings.SyslogPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["INSTALL_DIR"] = settings.InstallDirectory,
            ["LOG_DIR"] = settings.LogDirectory,
            ["STATE_DIR"] = settings.StateDirectory,
        });
    }

    /// <summary>The bootstrap script from <c>deploy/enroll/bootstrap.sh</c>, rendered for this bundle.</summary>
    /// <param name="archiveSha256">Lower-case hex SHA-256 of the archive: the script refuses any other bytes.</param>
    /// <param name="publicKeyPin">Base64 SHA-256 of the enrollment endpoint's public key, for <c>curl --pinnedpubkey</c>.</param>
    public static string RenderBootstrap(AgentHostSettings settings, Uri bundleUrl, string archiveSha256, string publicKeyPin, DateTimeOffset expiresAt, bool withUpdater)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(bundleUrl);
        if (archiveSha256.Length != 64 || !archiveSha256.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("The archive hash must be 64 lower-case hex digits.", nameof(archiveSha256));
        }
        return Render(Template("Decnet.Swarm.Enroll.bootstrap.sh"), new Dictionary<string, string>
        {
            ["AGENT_NAME"] = settings.Name,
            ["MASTER_HOST"] = settings.MasterHost,
            ["BUNDLE_URL"] = bundleUrl.AbsoluteUri,
            ["ARCHIVE_SHA256"] = archiveSha256,
            ["PUBLIC_KEY_PIN"] = publicKeyPin,
            ["WITH_UPDATER"] = withUpdater ? "yes" : "no",
            ["UNITS"] = string.Join(' ', Units(withUpdater)),
            ["EXPIRES_AT"] = expiresAt.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private static void Add(TarWriter tar, string name, string text, UnixFileMode mode, DateTimeOffset timestamp)
    {
        using var data = new MemoryStream(Encoding.UTF8.GetBytes(text));
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = mode, ModificationTime = timestamp });
    }

    private static string Template(string resource)
    {
        using var stream = typeof(WorkerBundle).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Template {resource} is not embedded in {typeof(WorkerBundle).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Render(string template, Dictionary<string, string> values)
    {
        var text = template;
        foreach (var (key, value) in values)
        {
            // Values are validated names, hosts and paths; a quote or newline would break the script or unit.
            if (value.IndexOfAny(['\'', '"', '\n', '\r', '`', '$', '\\']) >= 0)
            {
                throw new ArgumentException($"'{value}' cannot be written into a unit or script.", nameof(values));
            }
            text = text.Replace("{{" + key + "}}", value, StringComparison.Ordinal);
        }
        return text;
    }
}
