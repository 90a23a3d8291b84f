using Decnet.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class LogEntryConfiguration : IEntityTypeConfiguration<LogEntry>
{
    public void Configure(EntityTypeBuilder<LogEntry> builder)
    {
        builder.ToTable("logs");
        builder.HasKey(l => l.Id);
        builder.Property(l => l.Id).ValueGeneratedOnAdd();
        builder.HasIndex(l => l.Timestamp);
        builder.HasIndex(l => l.Decky);
        builder.HasIndex(l => l.Service);
        builder.HasIndex(l => l.EventType);
        builder.HasIndex(l => l.AttackerIp);
        builder.HasIndex(l => l.EventKey).IsUnique();
    }
}
