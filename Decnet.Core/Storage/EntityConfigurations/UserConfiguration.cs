using Decnet.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Username).HasMaxLength(64).UseCollation("NOCASE");
        builder.HasIndex(u => u.Username).IsUnique();
        builder.Property(u => u.PasswordHash).HasMaxLength(128);
        builder.Property(u => u.Role).HasConversion(r => r.ToWire(), s => s == UserRoles.Admin ? UserRole.Admin : UserRole.Viewer).HasMaxLength(16);
        builder.Property(u => u.SecurityStamp).HasMaxLength(64);
    }
}
