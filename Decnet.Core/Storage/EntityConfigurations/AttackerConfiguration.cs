using Decnet.Core.Attackers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class AttackerConfiguration : IEntityTypeConfiguration<Attacker>
{
    public void Configure(EntityTypeBuilder<Attacker> builder)
    {
        builder.ToTable("attackers");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Ip).HasMaxLength(64);
        builder.HasIndex(a => a.Ip).IsUnique();
        builder.HasIndex(a => a.FirstSeen);
        builder.HasIndex(a => a.LastSeen);
        builder.HasIndex(a => a.EventCount);
        builder.HasIndex(a => a.IsTraversal);
        builder.HasIndex(a => a.UpdatedAt);
        builder.HasOne(a => a.Behavior).WithOne().HasForeignKey<AttackerBehavior>(b => b.AttackerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AttackerBehaviorConfiguration : IEntityTypeConfiguration<AttackerBehavior>
{
    public void Configure(EntityTypeBuilder<AttackerBehavior> builder)
    {
        builder.ToTable("attacker_behavior");
        builder.HasKey(b => b.AttackerId);
        builder.HasIndex(b => b.BehaviorClass);
    }
}
