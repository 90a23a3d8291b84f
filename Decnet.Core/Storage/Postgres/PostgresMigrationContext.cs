using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Decnet.Core.Storage.Postgres;

/// <summary>
/// The same model as <see cref="DecnetDbContext"/>, only to own the PostgreSQL migrations
/// (Storage/Postgres/Migrations): EF Core picks a context's migrations by the context type, so the two
/// providers keep separate, independently generated sets in one assembly. The application itself always
/// runs <see cref="DecnetDbContext"/>; <see cref="DatabaseMigrator"/> uses this type only to migrate.
/// </summary>
public sealed class PostgresMigrationContext(DbContextOptions<PostgresMigrationContext> options) : DecnetDbContext(options);

/// <summary>Used by <c>dotnet ef migrations add --context PostgresMigrationContext</c> only; it never connects.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresMigrationContext>
{
    public PostgresMigrationContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<PostgresMigrationContext>();
        builder.UseNpgsql("Host=localhost;Database=decnet;Username=decnet");
        return new PostgresMigrationContext(builder.Options);
    }
}
