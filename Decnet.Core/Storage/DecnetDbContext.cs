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

public sealed class DecnetDbContext(DbContextOptions<DecnetDbContext> options) : DbContext(options)
{
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

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(DecnetDbContext).Assembly);

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
