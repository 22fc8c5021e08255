using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Lets SQLite itself wait for a lock another connection holds (its busy handler, which tries again within a
/// millisecond or a few) instead of returning SQLITE_BUSY at once: Microsoft.Data.Sqlite's own retry then sleeps the
/// thread 150 ms before each new try, so that writers queued behind one another (completions at the same time, each a
/// short write transaction) waited in steps of 150 ms while the lock was free most of that time. Set on every open,
/// a native call on the connection's handle (no statement); a pooled handle keeps it anyway. Nothing on PostgreSQL.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    /// <summary>How long SQLite waits for a lock before it answers busy (then Microsoft.Data.Sqlite's retries take over, up to the command's timeout).</summary>
    internal const int Milliseconds = 10_000;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, Milliseconds);
        }
    }
}
