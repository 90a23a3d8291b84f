using Decnet.Core.Deckies;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class DeploymentConfiguration : IEntityTypeConfiguration<DeploymentRecord>
{
    public void Configure(EntityTypeBuilder<DeploymentRecord> builder)
    {
        builder.ToTable("deployments");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Mode).HasMaxLength(16);
        builder.HasMany(d => d.Deckies).WithOne().HasForeignKey(d => d.DeploymentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DeckyConfiguration : IEntityTypeConfiguration<DeckyRecord>
{
    public void Configure(EntityTypeBuilder<DeckyRecord> builder)
    {
        builder.ToTable("deckies");
        builder.HasKey(d => d.Name);
        builder.Property(d => d.Name).HasMaxLength(128);
        builder.Property(d => d.Ip).HasMaxLength(64);
        builder.HasIndex(d => d.Ip);
        // Rows stored before custom services existed read as none.
        builder.Property(d => d.CustomServices).HasDefaultValue("[]");
        builder.HasIndex(d => d.HostId);
    }
}
