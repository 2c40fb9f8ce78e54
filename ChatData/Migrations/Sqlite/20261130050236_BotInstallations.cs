using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BotInstallations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "BotInstallations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    TenantId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ConversationId = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    TeamId = table.Column<string>(type: "TEXT", maxLength: 400, nullable: true),
                    TeamName = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    TeamGroupId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    AddressJson = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    IsActive = table.Column<bool>(type: "INTEGER", nullable: false),
                    InstalledAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RemovedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BotInstallations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_BotInstallations_Channel_TenantId_ConversationId",
                table: "BotInstallations",
                columns: new[] { "Channel", "TenantId", "ConversationId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_BotInstallations_Channel_TenantId_TeamName",
                table: "BotInstallations",
                columns: new[] { "Channel", "TenantId", "TeamName" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "BotInstallations");
        }
    }
}
