namespace Decnet.Core.Swarm.Enrollment;

/// <summary>
/// A pending enrollment bundle (<c>enrollment_tokens</c>): the bootstrap command's capability, stored
/// only as the SHA-256 of the token, so neither the database nor the bundle folder (whose files are named
/// by the hash) gives the URL back. It survives a master restart and ends at the host's first heartbeat
/// (the install works) or at <see cref="ExpiresAt"/>, when a host that never connected is swept.
/// </summary>
public sealed class EnrollmentToken
{
    /// <summary>Lower-case hex SHA-256 of the token.</summary>
    public required string TokenHash { get; set; }

    public Guid HostId { get; set; }

    public required string HostName { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary>Lower-case hex SHA-256 of the .tgz, which the script checks before unpacking.</summary>
    public required string ArchiveSha256 { get; set; }

    public int ScriptDownloads { get; set; }

    public int ArchiveDownloads { get; set; }
}
