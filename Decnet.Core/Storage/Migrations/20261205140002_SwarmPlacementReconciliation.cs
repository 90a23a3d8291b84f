using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Decnet.Core.Storage.Migrations
{
    /// <inheritdoc />
    public partial class SwarmPlacementReconciliation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "StrayDeckies",
                table: "swarm_hosts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "StraysSince",
                table: "swarm_hosts",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "StrayDeckies",
                table: "swarm_hosts");

            migrationBuilder.DropColumn(
                name: "StraysSince",
                table: "swarm_hosts");
        }
    }
}
