using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Decnet.Core.Storage.Migrations
{
    /// <inheritdoc />
    public partial class LogRetentionSettings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LogRetentionDays",
                table: "system_settings",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LogRetentionMaxRows",
                table: "system_settings",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "system_settings",
                keyColumn: "Id",
                keyValue: 1,
                columns: new[] { "LogRetentionDays", "LogRetentionMaxRows" },
                values: new object[] { null, null });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LogRetentionDays",
                table: "system_settings");

            migrationBuilder.DropColumn(
                name: "LogRetentionMaxRows",
                table: "system_settings");
        }
    }
}
