using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBot.ChatData.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Knowledge : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Documents",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SourceName = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    SourceKey = table.Column<string>(type: "TEXT", maxLength: 800, nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ContentType = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    ContentHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    BlobName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ScopeKey = table.Column<string>(type: "TEXT", maxLength: 400, nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    FailureReason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    ChunkCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    LeaseUntil = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UploadedByUserId = table.Column<Guid>(type: "TEXT", nullable: true),
                    NotifyReference = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    IndexedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Documents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DocumentChunks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DocumentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Heading = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Text = table.Column<string>(type: "TEXT", nullable: false),
                    Section = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Page = table.Column<int>(type: "INTEGER", nullable: true),
                    Tokens = table.Column<int>(type: "INTEGER", nullable: false),
                    AccessKeys = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    Embedding = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DocumentChunks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DocumentChunks_Documents_DocumentId",
                        column: x => x.DocumentId,
                        principalTable: "Documents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DocumentPrincipals",
                columns: table => new
                {
                    DocumentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Principal = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DocumentPrincipals", x => new { x.DocumentId, x.Principal });
                    table.ForeignKey(
                        name: "FK_DocumentPrincipals_Documents_DocumentId",
                        column: x => x.DocumentId,
                        principalTable: "Documents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_DocumentChunks_DocumentId_Ordinal",
                table: "DocumentChunks",
                columns: new[] { "DocumentId", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_Documents_ContentHash",
                table: "Documents",
                column: "ContentHash");

            migrationBuilder.CreateIndex(
                name: "IX_Documents_SourceKey",
                table: "Documents",
                column: "SourceKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Documents_Status_LeaseUntil",
                table: "Documents",
                columns: new[] { "Status", "LeaseUntil" });

            // Full-text index over the chunks (FTS5, external content kept in step by triggers).
            // Heading and text are ranked; the access keys are matched in the same query and never ranked.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE "ChunkSearch" USING fts5(
                    "Heading", "Text", "AccessKeys",
                    content='DocumentChunks', content_rowid='Id',
                    tokenize='porter unicode61 remove_diacritics 2');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "DocumentChunks_ai" AFTER INSERT ON "DocumentChunks" BEGIN
                    INSERT INTO "ChunkSearch"(rowid, "Heading", "Text", "AccessKeys") VALUES (new."Id", new."Heading", new."Text", new."AccessKeys");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "DocumentChunks_ad" AFTER DELETE ON "DocumentChunks" BEGIN
                    INSERT INTO "ChunkSearch"("ChunkSearch", rowid, "Heading", "Text", "AccessKeys") VALUES ('delete', old."Id", old."Heading", old."Text", old."AccessKeys");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "DocumentChunks_au" AFTER UPDATE ON "DocumentChunks" BEGIN
                    INSERT INTO "ChunkSearch"("ChunkSearch", rowid, "Heading", "Text", "AccessKeys") VALUES ('delete', old."Id", old."Heading", old."Text", old."AccessKeys");
                    INSERT INTO "ChunkSearch"(rowid, "Heading", "Text", "AccessKeys") VALUES (new."Id", new."Heading", new."Text", new."AccessKeys");
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "DocumentChunks_ai";""");
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "DocumentChunks_ad";""");
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "DocumentChunks_au";""");
            migrationBuilder.Sql("""DROP TABLE IF EXISTS "ChunkSearch";""");

            migrationBuilder.DropTable(
                name: "DocumentChunks");

            migrationBuilder.DropTable(
                name: "DocumentPrincipals");

            migrationBuilder.DropTable(
                name: "Documents");
        }
    }
}
