using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ChatBot.ChatData.Database;

/// <summary>
/// Per-connection SQLite settings. WAL (set once by the migrator, stored in the file) with synchronous=NORMAL commits
/// without an fsync each time and stays safe from corruption and from process crashes (only a power cut can lose the
/// last commits). busy_timeout lets SQLite wait for the write lock itself, in millisecond steps, instead of failing.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;";

    public static SqlitePragmas Instance { get; } = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
