using Decnet.Core.Attackers;
using Decnet.Core.Audit;
using Decnet.Core.Bounty;
using Decnet.Core.Deckies;
using Decnet.Core.Events;
using Decnet.Core.Settings;
using Decnet.Core.Swarm;
using Decnet.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Decnet.Core.Storage;

/// <summary>
/// The master's database, on SQLite or PostgreSQL. The model is the same on both; what a provider cannot
/// express the same way (case-insensitive user names, the JSON column type) is chosen here by provider.
/// </summary>
public class DecnetDbContext : DbContext
{
    /// <summary>ICU collation that compares case-insensitively, PostgreSQL's match for SQLite's NOCASE.</summary>
    public const string PostgresCaseInsensitiveCollation = "decnet_nocase";

    public DecnetDbContext(DbContextOptions<DecnetDbContext> options)
        : base(options)
    {
    }

    /// <summary>For <see cref="Postgres.PostgresMigrationContext"/>, which carries the PostgreSQL migrations.</summary>
    protected DecnetDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<User> Users => Set<User>();
    public DbSet<LogEntry> Logs => Set<LogEntry>();
    public DbSet<BountyRecord> Bounties => Set<BountyRecord>();
    public DbSet<Attacker> Attackers => Set<Attacker>();
    public DbSet<AttackerBehavior> AttackerBehaviors => Set<AttackerBehavior>();
    public DbSet<SwarmHost> SwarmHosts => Set<SwarmHost>();
    public DbSet<DeckyShard> DeckyShards => Set<DeckyShard>();
    public DbSet<RevokedFingerprint> RevokedFingerprints => Set<RevokedFingerprint>();
    public DbSet<Swarm.Enrollment.EnrollmentToken> EnrollmentTokens => Set<Swarm.Enrollment.EnrollmentToken>();
    public DbSet<DeploymentRecord> Deployments => Set<DeploymentRecord>();
    public DbSet<DeckyRecord> Deckies => Set<DeckyRecord>();
    public DbSet<SystemSettings> SystemSettings => Set<SystemSettings>();
    public DbSet<PipelineCursor> PipelineCursors => Set<PipelineCursor>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(DecnetDbContext).Assembly);
        if (Database.IsNpgsql())
        {
            // Non-deterministic ICU collation: "Admin" and "admin" are one user, as with NOCASE on SQLite.
            modelBuilder.HasCollation(PostgresCaseInsensitiveCollation, locale: "und-u-ks-level2", provider: "icu", deterministic: false);
            modelBuilder.Entity<User>().Property(u => u.Username).UseCollation(PostgresCaseInsensitiveCollation);
            // json (not jsonb) keeps the text as written (key order of the event) and refuses malformed JSON.
            modelBuilder.Entity<LogEntry>().Property(l => l.Fields).HasColumnType("json");
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every time is UTC. SQLite keeps no kind, so it is restored on read.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcDateTimeConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v == null ? v : v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime(),
        v => v == null ? v : DateTime.SpecifyKind(v.Value, DateTimeKind.Utc));
}
