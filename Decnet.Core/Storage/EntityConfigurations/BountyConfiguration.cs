using Decnet.Core.Bounty;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class BountyConfiguration : IEntityTypeConfiguration<BountyRecord>
{
    public void Configure(EntityTypeBuilder<BountyRecord> builder)
    {
        builder.ToTable("bounty");
        builder.HasKey(b => b.Id);
        builder.HasIndex(b => b.Timestamp);
        builder.HasIndex(b => b.Decky);
        builder.HasIndex(b => b.Service);
        builder.HasIndex(b => b.AttackerIp);
        builder.HasIndex(b => b.BountyType);
        builder.HasIndex(b => b.DedupKey).IsUnique();
    }
}
