using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Decnet.Core.Storage.Migrations
{
    /// <inheritdoc />
    public partial class LogSearchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_logs_AttackerIp",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_Decky",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_EventType",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_Service",
                table: "logs");

            migrationBuilder.CreateIndex(
                name: "IX_logs_AttackerIp_Timestamp",
                table: "logs",
                columns: new[] { "AttackerIp", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_Decky_Timestamp",
                table: "logs",
                columns: new[] { "Decky", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventType_Timestamp",
                table: "logs",
                columns: new[] { "EventType", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_logs_Service_Timestamp",
                table: "logs",
                columns: new[] { "Service", "Timestamp" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_logs_AttackerIp_Timestamp",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_Decky_Timestamp",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_EventType_Timestamp",
                table: "logs");

            migrationBuilder.DropIndex(
                name: "IX_logs_Service_Timestamp",
                table: "logs");

            migrationBuilder.CreateIndex(
                name: "IX_logs_AttackerIp",
                table: "logs",
                column: "AttackerIp");

            migrationBuilder.CreateIndex(
                name: "IX_logs_Decky",
                table: "logs",
                column: "Decky");

            migrationBuilder.CreateIndex(
                name: "IX_logs_EventType",
                table: "logs",
                column: "EventType");

            migrationBuilder.CreateIndex(
                name: "IX_logs_Service",
                table: "logs",
                column: "Service");
        }
    }
}
