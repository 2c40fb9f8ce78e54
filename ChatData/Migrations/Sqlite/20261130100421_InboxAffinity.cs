using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InboxAffinity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Affinity",
                table: "Inbox",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                table: "Inbox",
                type: "TEXT",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Affinity",
                table: "Inbox");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                table: "Inbox");
        }
    }
}
