using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ContentFiltered : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "ContentFiltered",
                table: "Messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ContentFiltered",
                table: "Messages");
        }
    }
}
