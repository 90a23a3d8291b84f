using System.Globalization;
using System.Net;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Admission;

/// <summary>
/// The line protocol between service containers and the host's admission service, one request and one
/// reply per line, replies in request order:
/// <c>ACQUIRE &lt;decky&gt; &lt;ip&gt;</c> → <c>OK &lt;lease&gt;</c> | <c>REFUSED &lt;reason&gt;</c>;
/// <c>RELEASE &lt;lease&gt;</c> → <c>OK</c>; anything malformed → <c>ERR &lt;why&gt;</c>.
/// A lease lives on the connection that took it: when the connection ends, its leases are released.
/// </summary>
public static class AdmissionProtocol
{
    /// <summary>Longest request line: a 63-character decky name and a full IPv6 text fit with room to spare.</summary>
    public const int MaxLineLength = 160;

    /// <summary>Where the socket's folder is mounted in service containers (read-only).</summary>
    public const string ContainerDirectory = "/run/decnet/admission";

    public const string SocketFileName = "admission.sock";

    public static string ContainerSocketPath => ContainerDirectory + "/" + SocketFileName;

    /// <summary>The reason word of a <c>REFUSED</c> reply when a connection holds as many leases as it may.</summary>
    public const string ConnectionFull = "connection";

    public static string Acquire(string decky, IPAddress source) => $"ACQUIRE {decky} {source}";

    public static string Release(long lease) => string.Create(CultureInfo.InvariantCulture, $"RELEASE {lease}");

    public static string ReasonOf(AdmissionRefusal refusal) => refusal switch
    {
        AdmissionRefusal.SourcePerDecky => "source_per_decky",
        AdmissionRefusal.SourcePerHost => "source_per_host",
        AdmissionRefusal.Decky => "decky",
        AdmissionRefusal.Host => "host",
        _ => "none",
    };

    /// <summary>The refusal a reason word stands for; a connection that is full counts as the host's bound.</summary>
    public static AdmissionRefusal RefusalOf(string reason) => reason switch
    {
        "source_per_decky" => AdmissionRefusal.SourcePerDecky,
        "source_per_host" => AdmissionRefusal.SourcePerHost,
        "decky" => AdmissionRefusal.Decky,
        _ => AdmissionRefusal.Host,
    };

    /// <summary>Decky names are DNS labels: letters, digits and hyphens, at most 63.</summary>
    public static bool IsDeckyName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 63)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }
        return true;
    }
}
