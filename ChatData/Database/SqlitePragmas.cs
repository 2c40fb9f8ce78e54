using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ChatBot.ChatData.Database;

/// <summary>
/// Per-connection SQLite settings. WAL (set once by the migrator, stored in the file) with synchronous=NORMAL commits
/// without an fsync each time and stays safe from corruption and from process crashes (only a power cut can lose the
/// last commits). busy_timeout lets SQLite wait for the write lock itself, in millisecond steps, instead of failing.
/// The settings belong to the native connection, which Microsoft.Data.Sqlite's pool keeps open across many opens of
/// the connection object: they are sent once per native connection, not on every open (a turn opens a dozen).
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;";

    private static readonly object Seen = new();

    private readonly ConditionalWeakTable<object, object> _configured = new();

    public static SqlitePragmas Instance { get; } = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (IsNew(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (IsNew(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>True the first time a native connection is seen (and from then on it counts as configured).</summary>
    private bool IsNew(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection is not SqliteConnection { Handle: { } handle })
        {
            return true;
        }

        return _configured.TryAdd(handle, Seen);
    }
}
