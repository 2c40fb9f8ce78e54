using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.SqlServer
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Channel = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    TenantId = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    ConversationId = table.Column<string>(type: "nvarchar(400)", maxLength: 400, nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    TeamId = table.Column<string>(type: "nvarchar(400)", maxLength: 400, nullable: true),
                    TeamName = table.Column<string>(type: "nvarchar(300)", maxLength: 300, nullable: true),
                    TeamGroupId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    AddressJson = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: false),
                    IsActive = table.Column<bool>(type: "bit", nullable: false),
                    InstalledAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    RemovedAt = table.Column<DateTime>(type: "datetime2", nullable: true)
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
