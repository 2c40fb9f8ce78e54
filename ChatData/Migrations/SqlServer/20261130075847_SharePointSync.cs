using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class SharePointSync : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SharePointSources",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    SiteUrl = table.Column<string>(type: "nvarchar(800)", maxLength: 800, nullable: false),
                    Library = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Folder = table.Column<string>(type: "nvarchar(800)", maxLength: 800, nullable: false),
                    Include = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: false),
                    Exclude = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: false),
                    FromConfiguration = table.Column<bool>(type: "bit", nullable: false),
                    IsEnabled = table.Column<bool>(type: "bit", nullable: false),
                    SiteId = table.Column<string>(type: "nvarchar(400)", maxLength: 400, nullable: true),
                    DriveId = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: true),
                    DeltaLink = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: true),
                    Generation = table.Column<int>(type: "int", nullable: false),
                    IsEnumerating = table.Column<bool>(type: "bit", nullable: false),
                    LastSyncStartedAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    LastSyncedAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    LastError = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    ItemCount = table.Column<int>(type: "int", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "datetime2", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SharePointSources", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SharePointItems",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    SourceId = table.Column<long>(type: "bigint", nullable: false),
                    ItemId = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    ParentId = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: true),
                    Name = table.Column<string>(type: "nvarchar(400)", maxLength: 400, nullable: false),
                    IsFolder = table.Column<bool>(type: "bit", nullable: false),
                    CTag = table.Column<string>(type: "nvarchar(400)", maxLength: 400, nullable: true),
                    AccessHash = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: true),
                    DocumentId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    SkippedReason = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: true),
                    Generation = table.Column<int>(type: "int", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "datetime2", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SharePointItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SharePointItems_SharePointSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "SharePointSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SharePointItems_SourceId_Generation",
                table: "SharePointItems",
                columns: new[] { "SourceId", "Generation" });

            migrationBuilder.CreateIndex(
                name: "IX_SharePointItems_SourceId_ItemId",
                table: "SharePointItems",
                columns: new[] { "SourceId", "ItemId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SharePointSources_SiteUrl_Library_Folder",
                table: "SharePointSources",
                columns: new[] { "SiteUrl", "Library", "Folder" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SharePointItems");

            migrationBuilder.DropTable(
                name: "SharePointSources");
        }
    }
}
