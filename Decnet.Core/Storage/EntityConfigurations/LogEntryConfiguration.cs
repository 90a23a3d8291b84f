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
        // Each searchable column is indexed together with the time: "service:ssh, newest first" walks the
        // index in order and stops after one page, instead of sorting every ssh row (50 ms at 100k rows).
        // The row id, the tie-breaker of the order, is the last column of every SQLite index.
        builder.HasIndex(l => new { l.Decky, l.Timestamp });
        builder.HasIndex(l => new { l.Service, l.Timestamp });
        builder.HasIndex(l => new { l.EventType, l.Timestamp });
        builder.HasIndex(l => new { l.AttackerIp, l.Timestamp });
        builder.HasIndex(l => l.EventKey).IsUnique();
    }
}
