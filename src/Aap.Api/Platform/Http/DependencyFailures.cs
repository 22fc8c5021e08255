using Aap.Api.Platform.Observability;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aap.Api.Platform.Http;

/// <summary>What a request was refused for: a dependency that is down (or full), with the answer it gets.</summary>
internal sealed record DependencyFailure(string Dependency, int Status, string Code, string Detail);

/// <summary>
/// Recognises an exception that means a dependency is down rather than a bug: the database (connection refused or
/// reset, a server shutting down, too many connections, a connection that could not be opened in time, SQLite busy
/// or locked past its timeout, an I/O error) or the file store (<see cref="StorageUnavailableException"/>). Such a
/// request is answered 503 with <c>Retry-After</c> and a code naming the dependency, never 500, and counted in
/// <c>aap.dependency.failures</c>; API routes and pages alike (see docs/api.md, "Dependencies that are down").
/// </summary>
internal static class DependencyFailures
{
    /// <summary>The <c>Retry-After</c> of a 503 (seconds): a restarted server or a failover is usually back by then.</summary>
    public const int RetryAfterSeconds = 5;

    public const string Database = "database";
    public const string Storage = "storage";

    /// <summary>The failure <paramref name="exception"/> stands for, or null when it is not a dependency being down.</summary>
    public static DependencyFailure? Classify(Exception exception)
    {
        foreach (var cause in Causes(exception))
        {
            switch (cause)
            {
                case StorageUnavailableException { Full: true }:
                    return new(Storage, StatusCodes.Status507InsufficientStorage, ProblemCodes.InsufficientStorage,
                        "The file storage is full; the request was not applied. Try again once space has been freed.");
                case StorageUnavailableException:
                    return new(Storage, StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable,
                        "The file storage is unavailable; the request was not applied. Try again shortly.");
                case SqliteException { SqliteErrorCode: 5 or 6 or 10 or 14 }: // BUSY, LOCKED, IOERR, CANTOPEN
                    return DatabaseDown;
                case SqliteException { SqliteErrorCode: 13 }: // FULL
                    return new(Database, StatusCodes.Status507InsufficientStorage, ProblemCodes.InsufficientStorage,
                        "The database's disk is full; the request was not applied. Try again once space has been freed.");
                case SqliteException:
                    break;
                case System.Data.Common.DbException other when IsPostgresOutage(other):
                    return DatabaseDown;
            }
        }

        return null;
    }

    /// <summary>
    /// PostgreSQL's outages, in a method of its own that only a database error other than SQLite's reaches: naming
    /// Npgsql's types loads the driver, which a node on SQLite does not otherwise need (<c>LoadedAssembliesTests</c>).
    /// </summary>
    private static bool IsPostgresOutage(System.Data.Common.DbException exception) => exception switch
    {
        PostgresException postgres => IsOutage(postgres.SqlState),
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    /// <summary>
    /// Answers the refusal's status with <c>Retry-After</c> (503 only), counts it, and lets go of pooled PostgreSQL
    /// connections that the outage broke, so that the first requests after the server is back do not fail on them.
    /// </summary>
    public static void Refuse(HttpContext context, DependencyFailure failure)
    {
        context.Response.StatusCode = failure.Status;
        if (failure.Status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.RequestServices.GetService<DependencyMetrics>()?.Failed(failure.Dependency);
        // This application's pool only (not every pool in the process): idle connections closed now, busy ones when returned.
        if (failure.Dependency == Database && context.RequestServices.GetService<AppDbContext>()?.Database.GetDbConnection() is { } connection
            and not SqliteConnection)
        {
            ClearPostgresPool(connection);
        }
    }

    private static void ClearPostgresPool(System.Data.Common.DbConnection connection)
    {
        if (connection is NpgsqlConnection postgres)
        {
            NpgsqlConnection.ClearPool(postgres);
        }
    }

    private static readonly DependencyFailure DatabaseDown = new(Database, StatusCodes.Status503ServiceUnavailable, ProblemCodes.DatabaseUnavailable,
        "The database is unavailable; the request was not applied. Try again shortly.");

    /// <summary>Admin shutdown, crash shutdown, cannot connect now (57P01-57P03), too many connections (53300), any connection exception (class 08).</summary>
    private static bool IsOutage(string sqlState) =>
        sqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections ||
        sqlState.StartsWith("08", StringComparison.Ordinal);

    /// <summary>The exception and everything it wraps: EF's transient-failure and update wrappers, aggregates, the driver's inner I/O errors.</summary>
    private static IEnumerable<Exception> Causes(Exception exception)
    {
        var pending = new Stack<Exception>();
        pending.Push(exception);
        for (var seen = 0; pending.Count > 0 && seen < 32; seen++)
        {
            var cause = pending.Pop();
            yield return cause;
            if (cause is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (cause.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
