using Decnet.Core.Swarm;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class SwarmHostConfiguration : IEntityTypeConfiguration<SwarmHost>
{
    public void Configure(EntityTypeBuilder<SwarmHost> builder)
    {
        builder.ToTable("swarm_hosts");
        builder.HasKey(h => h.Id);
        builder.Property(h => h.Name).HasMaxLength(64);
        builder.HasIndex(h => h.Name).IsUnique();
        builder.Property(h => h.Status).HasMaxLength(32);
        builder.HasIndex(h => h.Status);
        builder.Property(h => h.ClientCertFingerprint).HasMaxLength(64);
        builder.HasIndex(h => h.ClientCertFingerprint).IsUnique();
        builder.Property(h => h.UpdaterCertFingerprint).HasMaxLength(64);
        builder.HasIndex(h => h.UpdaterCertFingerprint);
        builder.HasMany(h => h.Shards).WithOne(s => s.Host).HasForeignKey(s => s.HostId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DeckyShardConfiguration : IEntityTypeConfiguration<DeckyShard>
{
    public void Configure(EntityTypeBuilder<DeckyShard> builder)
    {
        builder.ToTable("decky_shards");
        builder.HasKey(s => s.DeckyName);
        builder.Property(s => s.DeckyName).HasMaxLength(128);
        builder.HasIndex(s => s.HostId);
        builder.Property(s => s.State).HasMaxLength(32);
        builder.HasIndex(s => s.State);
    }
}

internal sealed class RevokedFingerprintConfiguration : IEntityTypeConfiguration<RevokedFingerprint>
{
    public void Configure(EntityTypeBuilder<RevokedFingerprint> builder)
    {
        builder.ToTable("revoked_fingerprints");
        builder.HasKey(r => r.Fingerprint);
        builder.Property(r => r.Fingerprint).HasMaxLength(64);
    }
}

internal sealed class EnrollmentTokenConfiguration : IEntityTypeConfiguration<Swarm.Enrollment.EnrollmentToken>
{
    public void Configure(EntityTypeBuilder<Swarm.Enrollment.EnrollmentToken> builder)
    {
        builder.ToTable("enrollment_tokens");
        builder.HasKey(t => t.TokenHash);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.Property(t => t.HostName).HasMaxLength(64);
        builder.Property(t => t.ArchiveSha256).HasMaxLength(64);
        builder.HasIndex(t => t.HostId);
        builder.HasIndex(t => t.ExpiresAt);
    }
}
