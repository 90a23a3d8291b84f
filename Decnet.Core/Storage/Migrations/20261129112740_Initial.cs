using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Decnet.Core.Storage.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "attackers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ip = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    FirstSeen = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeen = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EventCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ServiceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    DeckyCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Services = table.Column<string>(type: "TEXT", nullable: false),
                    Deckies = table.Column<string>(type: "TEXT", nullable: false),
                    TraversalPath = table.Column<string>(type: "TEXT", nullable: true),
                    IsTraversal = table.Column<bool>(type: "INTEGER", nullable: false),
                    BountyCount = table.Column<int>(type: "INTEGER", nullable: false),
                    CredentialCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Fingerprints = table.Column<string>(type: "TEXT", nullable: false),
                    Commands = table.Column<string>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attackers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Timestamp = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Actor = table.Column<string>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", nullable: false),
                    Target = table.Column<string>(type: "TEXT", nullable: true),
                    Detail = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_log", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "bounty",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Timestamp = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Decky = table.Column<string>(type: "TEXT", nullable: false),
                    Service = table.Column<string>(type: "TEXT", nullable: false),
                    AttackerIp = table.Column<string>(type: "TEXT", nullable: true),
                    BountyType = table.Column<string>(type: "TEXT", nullable: false),
                    Payload = table.Column<string>(type: "TEXT", nullable: false),
                    DedupKey = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bounty", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "deployments",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    Mode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Interface = table.Column<string>(type: "TEXT", nullable: false),
                    Subnet = table.Column<string>(type: "TEXT", nullable: false),
                    Gateway = table.Column<string>(type: "TEXT", nullable: false),
                    Ipvlan = table.Column<bool>(type: "INTEGER", nullable: false),
                    MutateIntervalMinutes = table.Column<int>(type: "INTEGER", nullable: true),
                    IniText = table.Column<string>(type: "TEXT", nullable: true),
                    DeployedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    DeployedBy = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deployments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "logs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Timestamp = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Decky = table.Column<string>(type: "TEXT", nullable: false),
                    Service = table.Column<string>(type: "TEXT", nullable: false),
                    EventType = table.Column<string>(type: "TEXT", nullable: false),
                    AttackerIp = table.Column<string>(type: "TEXT", nullable: true),
                    RawLine = table.Column<string>(type: "TEXT", nullable: false),
                    Fields = table.Column<string>(type: "TEXT", nullable: false),
                    Msg = table.Column<string>(type: "TEXT", nullable: true),
                    TraceId = table.Column<string>(type: "TEXT", nullable: true),
                    SpanId = table.Column<string>(type: "TEXT", nullable: true),
                    EventKey = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "pipeline_cursors",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Position = table.Column<long>(type: "INTEGER", nullable: false),
                    Detail = table.Column<string>(type: "TEXT", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pipeline_cursors", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "revoked_fingerprints",
                columns: table => new
                {
                    Fingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    HostName = table.Column<string>(type: "TEXT", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_revoked_fingerprints", x => x.Fingerprint);
                });

            migrationBuilder.CreateTable(
                name: "swarm_hosts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Address = table.Column<string>(type: "TEXT", nullable: true),
                    AgentPort = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    LastHeartbeat = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ClientCertFingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    UpdaterCertFingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    CertBundlePath = table.Column<string>(type: "TEXT", nullable: true),
                    EnrolledAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Notes = table.Column<string>(type: "TEXT", nullable: true),
                    UseIpvlan = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_swarm_hosts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "system_settings",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    DeploymentLimit = table.Column<int>(type: "INTEGER", nullable: false),
                    GlobalMutationIntervalMinutes = table.Column<int>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedBy = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_system_settings", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Username = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    PasswordHash = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Role = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    MustChangePassword = table.Column<bool>(type: "INTEGER", nullable: false),
                    SecurityStamp = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    PasswordChangedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastLoginAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "attacker_behavior",
                columns: table => new
                {
                    AttackerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OsGuess = table.Column<string>(type: "TEXT", nullable: true),
                    HopDistance = table.Column<int>(type: "INTEGER", nullable: true),
                    TcpFingerprint = table.Column<string>(type: "TEXT", nullable: true),
                    RetransmitCount = table.Column<int>(type: "INTEGER", nullable: false),
                    BehaviorClass = table.Column<string>(type: "TEXT", nullable: true),
                    BeaconIntervalSeconds = table.Column<double>(type: "REAL", nullable: true),
                    BeaconJitterPct = table.Column<double>(type: "REAL", nullable: true),
                    ToolGuesses = table.Column<string>(type: "TEXT", nullable: false),
                    TimingStats = table.Column<string>(type: "TEXT", nullable: true),
                    PhaseSequence = table.Column<string>(type: "TEXT", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    DeploymentId = table.Column<int>(type: "INTEGER", nullable: false),
                    Ip = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Hostname = table.Column<string>(type: "TEXT", nullable: false),
                    Distro = table.Column<string>(type: "TEXT", nullable: false),
                    BaseImage = table.Column<string>(type: "TEXT", nullable: false),
                    BuildBase = table.Column<string>(type: "TEXT", nullable: false),
                    Archetype = table.Column<string>(type: "TEXT", nullable: true),
                    Services = table.Column<string>(type: "TEXT", nullable: false),
                    ServiceConfig = table.Column<string>(type: "TEXT", nullable: false),
                    NmapOs = table.Column<string>(type: "TEXT", nullable: false),
                    MutateIntervalMinutes = table.Column<int>(type: "INTEGER", nullable: true),
                    LastMutated = table.Column<DateTime>(type: "TEXT", nullable: true),
                    HostId = table.Column<Guid>(type: "TEXT", nullable: true)
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
                    DeckyName = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    HostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Services = table.Column<string>(type: "TEXT", nullable: false),
                    DeckyConfig = table.Column<string>(type: "TEXT", nullable: true),
                    DeckyIp = table.Column<string>(type: "TEXT", nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    LastSeen = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
                columns: new[] { "Id", "DeploymentLimit", "GlobalMutationIntervalMinutes", "UpdatedAt", "UpdatedBy" },
                values: new object[] { 1, 10, 30, new DateTime(2026, 1, 1, 0, 0, 0, 0, DateTimeKind.Utc), null });

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
                name: "IX_logs_AttackerIp",
                table: "logs",
                column: "AttackerIp");

            migrationBuilder.CreateIndex(
                name: "IX_logs_Decky",
                table: "logs",
                column: "Decky");

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventKey",
                table: "logs",
                column: "EventKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventType",
                table: "logs",
                column: "EventType");

            migrationBuilder.CreateIndex(
                name: "IX_logs_Service",
                table: "logs",
                column: "Service");

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
