using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Decnet.Core.Storage.Migrations
{
    /// <inheritdoc />
    public partial class DeckyCustomServices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CustomServices",
                table: "deckies",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CustomServices",
                table: "deckies");
        }
    }
}
