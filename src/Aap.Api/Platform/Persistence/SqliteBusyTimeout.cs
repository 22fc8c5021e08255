using System.Data.Common;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Lets a connection that finds the write lock taken wait for it in SQLite itself, trying again every millisecond
/// for up to <see cref="Milliseconds"/>, instead of returning SQLITE_BUSY at once: Microsoft.Data.Sqlite's own retry
/// then sleeps the thread 150 ms before each new try, so that writers queued behind one another (completions at the
/// same time, each a short write transaction) waited in steps of 150 ms while the lock was free most of that time.
/// <para>
/// The handler is AAP's own rather than SQLite's <c>sqlite3_busy_timeout</c>: SQLite's backs off (1, 2, 5, 10, 15,
/// 20, 25, 25, 25, 50, 50, 100 ms between tries), so a writer that had already waited a few milliseconds slept 25 to
/// 100 ms more while the lock it wanted was held for about one; under 10 writers at once those sleeps made the
/// slowest completions (docs/benchmarks.md). Set on every open, a native call on the connection's handle (no statement).
/// Nothing on PostgreSQL.
/// </para>
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    /// <summary>How long SQLite waits for a lock before it answers busy (then Microsoft.Data.Sqlite's retries take over, up to the command's timeout).</summary>
    internal const int Milliseconds = 10_000;

    // The handler's start of the current wait: SQLite calls it on the thread that runs the statement, with a count
    // of 0 at the first try of each wait.
    [ThreadStatic]
    private static long waitStarted;

    // Kept for the life of the process: SQLite holds a pointer to it on every connection.
    private static readonly BusyHandler Handler = OnBusy;

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
            _ = sqlite3_busy_handler(handle.DangerousGetHandle(), Handler, 0);
        }
    }

    /// <summary>Non-zero: try again; zero: give up, and SQLite answers busy.</summary>
    private static int OnBusy(nint state, int count)
    {
        if (count == 0)
        {
            waitStarted = Stopwatch.GetTimestamp();
        }
        else if (Stopwatch.GetElapsedTime(waitStarted).TotalMilliseconds > Milliseconds)
        {
            return 0;
        }

        Thread.Sleep(1);
        return 1;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int BusyHandler(nint state, int count);

    // In the SQLite library that Microsoft.Data.Sqlite loads (SQLitePCLRaw's e_sqlite3, which the project references);
    // SQLitePCLRaw does not expose this call.
    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_busy_handler(nint db, BusyHandler handler, nint state);
}
