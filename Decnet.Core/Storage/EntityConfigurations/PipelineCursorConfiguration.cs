using Decnet.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Decnet.Core.Storage.EntityConfigurations;

internal sealed class PipelineCursorConfiguration : IEntityTypeConfiguration<PipelineCursor>
{
    public void Configure(EntityTypeBuilder<PipelineCursor> builder)
    {
        builder.ToTable("pipeline_cursors");
        builder.HasKey(c => c.Name);
        builder.Property(c => c.Name).HasMaxLength(128);
    }
}
