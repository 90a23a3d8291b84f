using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Decnet.Core.Storage;

/// <summary>Used by `dotnet ef migrations add` only.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<DecnetDbContext>
{
    public DecnetDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<DecnetDbContext>();
        builder.UseSqlite("Data Source=design-time.db");
        return new DecnetDbContext(builder.Options);
    }
}
