using System.Net.Sockets;
using Aap.Api.Platform.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>
/// Which driver failures mean "the database is down" (503 <c>database_unavailable</c>) and which are not (a bug or a
/// conflict, answered as before), however EF wraps them. The outage tests exercise the real ones end to end.
/// </summary>
public sealed class DependencyClassificationTests
{
    public static TheoryData<string> DownStates => ["57P01", "57P02", "57P03", "53300", "08000", "08001", "08006", "08P01"];

    [Theory]
    [MemberData(nameof(DownStates))]
    public void A_PostgreSQL_shutdown_or_connection_error_is_the_database_being_down(string sqlState)
    {
        var postgres = new PostgresException("down", "FATAL", "FATAL", sqlState);

        Classify(postgres).ShouldBe(("database", 503, "database_unavailable"));
        Classify(new DbUpdateException("An error occurred while saving the entity changes.", postgres)).ShouldBe(("database", 503, "database_unavailable"));
    }

    [Theory]
    [InlineData("23505")] // unique violation: a conflict, not an outage
    [InlineData("40001")] // serialization failure: transient, but the server is up
    [InlineData("42P01")] // undefined table: a bug
    [InlineData("57014")] // query cancelled
    public void Other_PostgreSQL_errors_are_not_an_outage(string sqlState) =>
        DependencyFailures.Classify(new DbUpdateException("x", new PostgresException("no", "ERROR", "ERROR", sqlState))).ShouldBeNull();

    [Fact]
    public void A_connection_that_cannot_be_opened_is_the_database_being_down_even_inside_EFs_transient_wrappers()
    {
        var refused = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));
        var timedOut = new NpgsqlException("The operation has timed out", new TimeoutException());

        Classify(refused).ShouldBe(("database", 503, "database_unavailable"));
        Classify(new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", timedOut)).ShouldBe(("database", 503, "database_unavailable"));
        Classify(new RetryLimitExceededException("Retries exhausted.", refused)).ShouldBe(("database", 503, "database_unavailable"));
        Classify(new AggregateException(new InvalidOperationException("first"), refused)).ShouldBe(("database", 503, "database_unavailable"));
    }

    [Theory]
    [InlineData(5)] // SQLITE_BUSY after its timeout
    [InlineData(6)] // SQLITE_LOCKED
    [InlineData(10)] // SQLITE_IOERR
    public void SQLite_busy_locked_or_failing_its_disk_is_the_database_being_down(int code) =>
        Classify(new DbUpdateException("x", new SqliteException("database is locked", code))).ShouldBe(("database", 503, "database_unavailable"));

    [Fact]
    public void SQLite_on_a_full_disk_is_507_and_its_constraint_errors_are_not_an_outage()
    {
        Classify(new SqliteException("database or disk is full", 13)).ShouldBe(("database", 507, "insufficient_storage"));
        DependencyFailures.Classify(new DbUpdateException("x", new SqliteException("UNIQUE constraint failed", 19))).ShouldBeNull();
        DependencyFailures.Classify(new InvalidOperationException("a bug")).ShouldBeNull();
        DependencyFailures.Classify(new IOException("a client went away")).ShouldBeNull();
    }

    private static (string, int, string)? Classify(Exception exception) =>
        DependencyFailures.Classify(exception) is { } failure ? (failure.Dependency, failure.Status, failure.Code) : null;
}
