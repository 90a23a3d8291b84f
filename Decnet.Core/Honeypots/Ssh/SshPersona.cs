using System.Globalization;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// The persona keys the SSH and Telnet services read from the decky's service_config:
/// <list type="bullet">
/// <item><c>openssh_version</c>: identification string (default: the OpenSSH build of the decky's
/// distro, Debian 12's <c>SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10</c> for debian), so the banner never
/// contradicts /etc/os-release.</item>
/// <item><c>hostname</c>: the name the shell shows, overriding the decky's hostname (upstream's key).</item>
/// <item><c>users</c>: <c>user:pass,user2:pass2</c> accepted logins; <c>password</c>: root's password.
/// With neither, root/admin is accepted (upstream's default root password).</item>
/// <item><c>failure_delay_ms</c> (default 2000, plus up to 10% jitter), <c>max_auth_tries</c> (6).</item>
/// <item><c>max_upload_bytes</c> (50 MiB), <c>max_recording_bytes</c> (5 MiB),
/// <c>keyboard_interactive</c> (true: offered and captured like password).</item>
/// </list>
/// </summary>
public sealed class SshPersona
{
    public const string DefaultVersion = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10";
    public const string DefaultRootPassword = "admin";

    public string Version { get; init; } = DefaultVersion;

    /// <summary>The KEXINIT lists of the OpenSSH build <see cref="Version"/> names.</summary>
    public SshAlgorithmProfile Algorithms { get; init; } = SshAlgorithmProfile.OpenSsh92Debian;
    public required string Hostname { get; init; }
    public IReadOnlyDictionary<string, string> Credentials { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal) { ["root"] = DefaultRootPassword };
    public TimeSpan FailureDelay { get; init; } = TimeSpan.FromMilliseconds(2000);
    public int MaxAuthTries { get; init; } = 6;
    public long MaxUploadBytes { get; init; } = 50L * 1024 * 1024;
    public long MaxRecordingBytes { get; init; } = 5L * 1024 * 1024;
    public bool KeyboardInteractive { get; init; } = true;

    public static SshPersona From(ServiceContext context)
    {
        var version = context.PersonaValue("openssh_version") ?? DefaultVersionFor(context.Distro);
        if (!version.StartsWith("SSH-", StringComparison.Ordinal))
        {
            version = "SSH-2.0-" + version;
        }
        // The identification string must be one printable ASCII line (RFC 4253 §4.2).
        version = new string([.. version.Where(c => c is >= ' ' and <= '~').Take(200)]);
        var hostname = new string([.. (context.PersonaValue("hostname") ?? "").Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_').Take(64)]);
        return new SshPersona
        {
            Version = version,
            Algorithms = SshAlgorithmProfile.For(version, context.Distro),
            Hostname = hostname.Length > 0 ? hostname : context.Hostname,
            Credentials = ParseCredentials(context.PersonaValue("users"), context.PersonaValue("password")),
            FailureDelay = TimeSpan.FromMilliseconds(Int(context, "failure_delay_ms", 2000, 0, 60_000)),
            MaxAuthTries = (int)Int(context, "max_auth_tries", 6, 1, 100),
            MaxUploadBytes = Int(context, "max_upload_bytes", 50L * 1024 * 1024, 0, 1L << 32),
            MaxRecordingBytes = Int(context, "max_recording_bytes", 5L * 1024 * 1024, 0, 1L << 30),
            KeyboardInteractive = !string.Equals(context.PersonaValue("keyboard_interactive"), "false", StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>The identification string each distro's packaged sshd sends.</summary>
    public static string DefaultVersionFor(string distro) => distro switch
    {
        "ubuntu22" => "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
        "ubuntu20" => "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11",
        "rocky9" => "SSH-2.0-OpenSSH_8.7",
        "centos7" => "SSH-2.0-OpenSSH_7.4",
        "alpine" => "SSH-2.0-OpenSSH_9.6",
        "fedora" => "SSH-2.0-OpenSSH_9.3",
        "kali" => "SSH-2.0-OpenSSH_9.7p1 Debian-7",
        "arch" => "SSH-2.0-OpenSSH_9.8",
        _ => DefaultVersion,
    };

    public static IReadOnlyDictionary<string, string> ParseCredentials(string? users, string? rootPassword)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in (users ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                result[entry[..colon]] = entry[(colon + 1)..];
            }
        }
        if (rootPassword is not null)
        {
            result["root"] = rootPassword;
        }
        if (result.Count == 0)
        {
            result["root"] = DefaultRootPassword;
        }
        return result;
    }

    public bool Accepts(string user, string password) =>
        Credentials.TryGetValue(user, out var expected) && string.Equals(expected, password, StringComparison.Ordinal);

    /// <summary>The configured delay with up to 10% jitter, so timing does not betray a fixed sleep.</summary>
    public TimeSpan JitteredFailureDelay() =>
        FailureDelay + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * FailureDelay.TotalMilliseconds * 0.1);

    private static long Int(ServiceContext context, string key, long fallback, long min, long max) =>
        long.TryParse(context.PersonaValue(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? Math.Clamp(value, min, max)
            : fallback;
}
