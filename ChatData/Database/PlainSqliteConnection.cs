using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

#pragma warning disable EF1001 // EF's own SQLite connection type: only the SqliteConnection it creates is changed.

namespace ChatBot.ChatData.Database;

/// <summary>
/// EF's SQLite connection gives every SqliteConnection it creates a dozen user functions (decimal arithmetic and
/// aggregates, regexp, a decimal collation), and Microsoft.Data.Sqlite registers them with SQLite again on every open:
/// a dozen native registrations and their allocations on each of the dozen opens a turn makes. This model stores no
/// decimals and asks for no regular expressions in SQL (a test guards the first), so its connections are plain.
/// </summary>
internal sealed class PlainSqliteConnection(
    RelationalConnectionDependencies dependencies,
    IRawSqlCommandBuilder rawSqlCommandBuilder,
    IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
    : Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
{
    protected override DbConnection CreateDbConnection() => new SqliteConnection(GetValidatedConnectionString());
}
