using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Decnet.Core.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:CollationDefinition:decnet_nocase", "und-u-ks-level2,und-u-ks-level2,icu,False");

            migrationBuilder.CreateTable(
                name: "attackers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    FirstSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    EventCount = table.Column<int>(type: "integer", nullable: false),
                    ServiceCount = table.Column<int>(type: "integer", nullable: false),
                    DeckyCount = table.Column<int>(type: "integer", nullable: false),
                    Services = table.Column<string>(type: "text", nullable: false),
                    Deckies = table.Column<string>(type: "text", nullable: false),
                    TraversalPath = table.Column<string>(type: "text", nullable: true),
                    IsTraversal = table.Column<bool>(type: "boolean", nullable: false),
                    BountyCount = table.Column<int>(type: "integer", nullable: false),
                    CredentialCount = table.Column<int>(type: "integer", nullable: false),
                    Fingerprints = table.Column<string>(type: "text", nullable: false),
                    Commands = table.Column<string>(type: "text", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attackers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Timestamp = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Actor = table.Column<string>(type: "text", nullable: false),
                    Action = table.Column<string>(type: "text", nullable: false),
                    Target = table.Column<string>(type: "text", nullable: true),
                    Detail = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_log", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "bounty",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Timestamp = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Decky = table.Column<string>(type: "text", nullable: false),
                    Service = table.Column<string>(type: "text", nullable: false),
                    AttackerIp = table.Column<string>(type: "text", nullable: true),
                    BountyType = table.Column<string>(type: "text", nullable: false),
                    Payload = table.Column<string>(type: "text", nullable: false),
                    DedupKey = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bounty", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "deployments",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Mode = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Interface = table.Column<string>(type: "text", nullable: false),
                    Subnet = table.Column<string>(type: "text", nullable: false),
                    Gateway = table.Column<string>(type: "text", nullable: false),
                    Ipvlan = table.Column<bool>(type: "boolean", nullable: false),
                    MutateIntervalMinutes = table.Column<int>(type: "integer", nullable: true),
                    IniText = table.Column<string>(type: "text", nullable: true),
                    DeployedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DeployedBy = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deployments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "enrollment_tokens",
                columns: table => new
                {
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    HostId = table.Column<Guid>(type: "uuid", nullable: false),
                    HostName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ArchiveSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ScriptDownloads = table.Column<int>(type: "integer", nullable: false),
                    ArchiveDownloads = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_enrollment_tokens", x => x.TokenHash);
                });

            migrationBuilder.CreateTable(
                name: "logs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Timestamp = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Decky = table.Column<string>(type: "text", nullable: false),
                    Service = table.Column<string>(type: "text", nullable: false),
                    EventType = table.Column<string>(type: "text", nullable: false),
                    AttackerIp = table.Column<string>(type: "text", nullable: true),
                    RawLine = table.Column<string>(type: "text", nullable: false),
                    Fields = table.Column<string>(type: "json", nullable: false),
                    Msg = table.Column<string>(type: "text", nullable: true),
                    TraceId = table.Column<string>(type: "text", nullable: true),
                    SpanId = table.Column<string>(type: "text", nullable: true),
                    EventKey = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "pipeline_cursors",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Position = table.Column<long>(type: "bigint", nullable: false),
                    Detail = table.Column<string>(type: "text", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pipeline_cursors", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "revoked_fingerprints",
                columns: table => new
                {
                    Fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    HostName = table.Column<string>(type: "text", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_revoked_fingerprints", x => x.Fingerprint);
                });

            migrationBuilder.CreateTable(
                name: "swarm_hosts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Address = table.Column<string>(type: "text", nullable: true),
                    AgentPort = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    LastHeartbeat = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ClientCertFingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UpdaterCertFingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CertBundlePath = table.Column<string>(type: "text", nullable: true),
                    EnrolledAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Notes = table.Column<string>(type: "text", nullable: true),
                    UseIpvlan = table.Column<bool>(type: "boolean", nullable: false),
                    StrayDeckies = table.Column<string>(type: "text", nullable: true),
                    StraysSince = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_swarm_hosts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "system_settings",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    DeploymentLimit = table.Column<int>(type: "integer", nullable: false),
                    GlobalMutationIntervalMinutes = table.Column<int>(type: "integer", nullable: false),
                    LogRetentionDays = table.Column<int>(type: "integer", nullable: true),
                    LogRetentionMaxRows = table.Column<long>(type: "bigint", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_system_settings", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Username = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "decnet_nocase"),
                    PasswordHash = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    MustChangePassword = table.Column<bool>(type: "boolean", nullable: false),
                    SecurityStamp = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    PasswordChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastLoginAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LightTheme = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "attacker_behavior",
                columns: table => new
                {
                    AttackerId = table.Column<Guid>(type: "uuid", nullable: false),
                    OsGuess = table.Column<string>(type: "text", nullable: true),
                    HopDistance = table.Column<int>(type: "integer", nullable: true),
                    TcpFingerprint = table.Column<string>(type: "text", nullable: true),
                    RetransmitCount = table.Column<int>(type: "integer", nullable: false),
                    BehaviorClass = table.Column<string>(type: "text", nullable: true),
                    BeaconIntervalSeconds = table.Column<double>(type: "double precision", nullable: true),
                    BeaconJitterPct = table.Column<double>(type: "double precision", nullable: true),
                    ToolGuesses = table.Column<string>(type: "text", nullable: false),
                    TimingStats = table.Column<string>(type: "text", nullable: true),
                    PhaseSequence = table.Column<string>(type: "text", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attacker_behavior", x => x.AttackerId);
                    table.ForeignKey(
                        name: "FK_attacker_behavior_attackers_AttackerId",
                        column: x => x.AttackerId,
                        principalTable: "attackers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "deckies",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    DeploymentId = table.Column<int>(type: "integer", nullable: false),
                    Ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Hostname = table.Column<string>(type: "text", nullable: false),
                    Distro = table.Column<string>(type: "text", nullable: false),
                    BaseImage = table.Column<string>(type: "text", nullable: false),
                    BuildBase = table.Column<string>(type: "text", nullable: false),
                    Archetype = table.Column<string>(type: "text", nullable: true),
                    Services = table.Column<string>(type: "text", nullable: false),
                    ServiceConfig = table.Column<string>(type: "text", nullable: false),
                    CustomServices = table.Column<string>(type: "text", nullable: false, defaultValue: "[]"),
                    NmapOs = table.Column<string>(type: "text", nullable: false),
                    MutateIntervalMinutes = table.Column<int>(type: "integer", nullable: true),
                    LastMutated = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    HostId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deckies", x => x.Name);
                    table.ForeignKey(
                        name: "FK_deckies_deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "decky_shards",
                columns: table => new
                {
                    DeckyName = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    HostId = table.Column<Guid>(type: "uuid", nullable: false),
                    Services = table.Column<string>(type: "text", nullable: false),
                    DeckyConfig = table.Column<string>(type: "text", nullable: true),
                    DeckyIp = table.Column<string>(type: "text", nullable: true),
                    State = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    LastError = table.Column<string>(type: "text", nullable: true),
                    LastSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_decky_shards", x => x.DeckyName);
                    table.ForeignKey(
                        name: "FK_decky_shards_swarm_hosts_HostId",
                        column: x => x.HostId,
                        principalTable: "swarm_hosts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "system_settings",
                columns: new[] { "Id", "DeploymentLimit", "GlobalMutationIntervalMinutes", "LogRetentionDays", "LogRetentionMaxRows", "UpdatedAt", "UpdatedBy" },
                values: new object[] { 1, 10, 30, null, null, new DateTime(2026, 1, 1, 0, 0, 0, 0, DateTimeKind.Utc), null });

            migrationBuilder.CreateIndex(
                name: "IX_attacker_behavior_BehaviorClass",
                table: "attacker_behavior",
                column: "BehaviorClass");

            migrationBuilder.CreateIndex(
                name: "IX_attackers_EventCount",
                table: "attackers",
                column: "EventCount");

            migrationBuilder.CreateIndex(
                name: "IX_attackers_FirstSeen",
                table: "attackers",
                column: "FirstSeen");

            migrationBuilder.CreateIndex(
                name: "IX_attackers_Ip",
                table: "attackers",
                column: "Ip",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_attackers_IsTraversal",
                table: "attackers",
                column: "IsTraversal");

            migrationBuilder.CreateIndex(
                name: "IX_attackers_LastSeen",
                table: "attackers",
                column: "LastSeen");

            migrationBuilder.CreateIndex(
                name: "IX_attackers_UpdatedAt",
                table: "attackers",
                column: "UpdatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_audit_log_Action",
                table: "audit_log",
                column: "Action");

            migrationBuilder.CreateIndex(
                name: "IX_audit_log_Timestamp",
                table: "audit_log",
                column: "Timestamp");

            migrationBuilder.CreateIndex(
                name: "IX_bounty_AttackerIp",
                table: "bounty",
                column: "AttackerIp");

            migrationBuilder.CreateIndex(
                name: "IX_bounty_BountyType",
                table: "bounty",
                column: "BountyType");

            migrationBuilder.CreateIndex(
                name: "IX_bounty_Decky",
                table: "bounty",
                column: "Decky");

            migrationBuilder.CreateIndex(
                name: "IX_bounty_DedupKey",
                table: "bounty",
                column: "DedupKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_bounty_Service",
                table: "bounty",
                column: "Service");

            migrationBuilder.CreateIndex(
                name: "IX_bounty_Timestamp",
                table: "bounty",
                column: "Timestamp");

            migrationBuilder.CreateIndex(
                name: "IX_deckies_DeploymentId",
                table: "deckies",
                column: "DeploymentId");

            migrationBuilder.CreateIndex(
                name: "IX_deckies_HostId",
                table: "deckies",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_deckies_Ip",
                table: "deckies",
                column: "Ip");

            migrationBuilder.CreateIndex(
                name: "IX_decky_shards_HostId",
                table: "decky_shards",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_decky_shards_State",
                table: "decky_shards",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_enrollment_tokens_ExpiresAt",
                table: "enrollment_tokens",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_enrollment_tokens_HostId",
                table: "enrollment_tokens",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_logs_AttackerIp_Timestamp",
                table: "logs",
                columns: new[] { "AttackerIp", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_Decky_Timestamp",
                table: "logs",
                columns: new[] { "Decky", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventKey",
                table: "logs",
                column: "EventKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventType_Timestamp",
                table: "logs",
                columns: new[] { "EventType", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_Service_Timestamp",
                table: "logs",
                columns: new[] { "Service", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_Timestamp",
                table: "logs",
                column: "Timestamp");

            migrationBuilder.CreateIndex(
                name: "IX_swarm_hosts_ClientCertFingerprint",
                table: "swarm_hosts",
                column: "ClientCertFingerprint",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_swarm_hosts_Name",
                table: "swarm_hosts",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_swarm_hosts_Status",
                table: "swarm_hosts",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_swarm_hosts_UpdaterCertFingerprint",
                table: "swarm_hosts",
                column: "UpdaterCertFingerprint");

            migrationBuilder.CreateIndex(
                name: "IX_users_Username",
                table: "users",
                column: "Username",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "attacker_behavior");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "bounty");

            migrationBuilder.DropTable(
                name: "deckies");

            migrationBuilder.DropTable(
                name: "decky_shards");

            migrationBuilder.DropTable(
                name: "enrollment_tokens");

            migrationBuilder.DropTable(
                name: "logs");

            migrationBuilder.DropTable(
                name: "pipeline_cursors");

            migrationBuilder.DropTable(
                name: "revoked_fingerprints");

            migrationBuilder.DropTable(
                name: "system_settings");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropTable(
                name: "attackers");

            migrationBuilder.DropTable(
                name: "deployments");

            migrationBuilder.DropTable(
                name: "swarm_hosts");
        }
    }
}
