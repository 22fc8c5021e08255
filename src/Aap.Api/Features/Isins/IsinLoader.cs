using System.Data.Common;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Aap.Api.Features.Isins;

/// <summary>What a load changed: distinct ISINs in the file, ISINs new to the table, and ISINs no longer listed.</summary>
internal sealed record IsinLoadResult(long Listed, long Added, long Removed);

/// <summary>
/// Loads a file's valid rows into <c>isins</c> by staging and swapping. The rows go first into a temporary stage
/// table (PostgreSQL: binary COPY; SQLite: one prepared INSERT reused, in one transaction that writes only the
/// temporary database, so the application's own writes are not held up). Then one transaction on <c>isins</c>
/// marks the ISINs the file no longer lists as removed, inserts the new ones and refreshes the others. Nothing of
/// <c>isins</c> changes until that transaction commits: a corrupt, truncated or empty file (which fails while it is
/// staged), a file that would remove more than <c>Jobs:Isin:MaxRemovedPercent</c>, or a crash mid-load leaves the
/// previous list as it was. While the rows are staged, the run's progress (rows staged so far) is reported every
/// <see cref="ProgressEvery"/> rows, which <see cref="JobProgress"/> turns into at most one write a second.
/// </summary>
internal sealed class IsinLoader(AppDbContext db, IOptions<IsinOptions> options, JobProgress progress)
{
    private const string Stage = "isin_stage";

    public const int ProgressEvery = 10_000;

    public async Task<IsinLoadResult> LoadAsync(IsinFile file, DateTime now, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            // Npgsql's types are named only past this test, so that a node on SQLite does not load the driver.
            return connection is SqliteConnection sqlite
                ? await LoadSqliteAsync(sqlite, file, now, cancellationToken)
                : await LoadPostgresAsync(connection, file, now, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<IsinLoadResult> LoadPostgresAsync(DbConnection database, IsinFile file, DateTime now, CancellationToken cancellationToken)
    {
        var connection = database as NpgsqlConnection ?? throw new NotSupportedException($"No ISIN loader for {database.GetType().Name}.");
        // A temporary table: private to this connection, not written to the WAL, gone if the process dies.
        await ExecuteAsync(connection, null, $"DROP TABLE IF EXISTS {Stage}; CREATE TEMP TABLE {Stage} (isin text NOT NULL, lei text)", cancellationToken);
        try
        {
            await using (var copy = await connection.BeginBinaryImportAsync($"COPY {Stage} (isin, lei) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                // Synchronous writes: the importer buffers them, and an await per value would cost more than the copy.
                long staged = 0;
                foreach (var row in file.ReadRows(cancellationToken))
                {
                    if (++staged % ProgressEvery == 0)
                    {
                        await progress.ReportAsync(staged, cancellationToken);
                    }

                    copy.StartRow();
                    copy.Write(row.Isin, NpgsqlDbType.Text);
                    if (row.Lei is null)
                    {
                        copy.WriteNull();
                    }
                    else
                    {
                        copy.Write(row.Lei, NpgsqlDbType.Text);
                    }
                }

                CheckStaged(file);
                await copy.CompleteAsync(cancellationToken);
            }

            await ExecuteAsync(connection, null, $"ANALYZE {Stage}", cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var before = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins", cancellationToken);
            var active = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins WHERE removed_at IS NULL", cancellationToken);
            var removed = await ExecuteAsync(connection, transaction,
                $"UPDATE isins SET removed_at = @now WHERE removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM {Stage} s WHERE s.isin = isins.isin)",
                cancellationToken, now);
            CheckRemoved(active, removed);
            var listed = await ExecuteAsync(connection, transaction,
                $"""
                 INSERT INTO isins (isin, lei, country, first_seen, last_seen, removed_at)
                 SELECT DISTINCT ON (isin) isin, lei, left(isin, 2), @now, @now, NULL FROM {Stage} ORDER BY isin, lei
                 ON CONFLICT (isin) DO UPDATE SET lei = excluded.lei, last_seen = excluded.last_seen, removed_at = NULL
                 """, cancellationToken, now);
            var after = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new IsinLoadResult(listed, after - before, removed);
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, $"DROP TABLE IF EXISTS {Stage}", CancellationToken.None);
            }
        }
    }

    private async Task<IsinLoadResult> LoadSqliteAsync(SqliteConnection connection, IsinFile file, DateTime now, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, $"DROP TABLE IF EXISTS temp.{Stage}; CREATE TEMP TABLE {Stage} (isin TEXT NOT NULL PRIMARY KEY, lei TEXT) WITHOUT ROWID",
            cancellationToken);
        try
        {
            // Deferred: the stage is in the temporary database, so this transaction never takes the main file's write lock.
            await using (var staging = connection.BeginTransaction(deferred: true))
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = staging;
                insert.CommandText = $"INSERT OR REPLACE INTO temp.{Stage} (isin, lei) VALUES ($isin, $lei)";
                var isin = insert.CreateParameter();
                isin.ParameterName = "$isin";
                var lei = insert.CreateParameter();
                lei.ParameterName = "$lei";
                insert.Parameters.Add(isin);
                insert.Parameters.Add(lei);
                insert.Prepare();
                long staged = 0;
                foreach (var row in file.ReadRows(cancellationToken))
                {
                    if (++staged % ProgressEvery == 0)
                    {
                        await progress.ReportAsync(staged, cancellationToken);
                    }

                    isin.Value = row.Isin;
                    lei.Value = (object?)row.Lei ?? DBNull.Value;
                    insert.ExecuteNonQuery();
                }

                CheckStaged(file);
                await staging.CommitAsync(cancellationToken);
            }

            await using var transaction = connection.BeginTransaction();
            var before = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins", cancellationToken);
            var active = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins WHERE removed_at IS NULL", cancellationToken);
            var removed = await ExecuteAsync(connection, transaction,
                $"UPDATE isins SET removed_at = @now WHERE removed_at IS NULL AND isin NOT IN (SELECT isin FROM temp.{Stage})", cancellationToken, now);
            CheckRemoved(active, removed);
            var listed = await ExecuteAsync(connection, transaction,
                $"""
                 INSERT INTO isins (isin, lei, country, first_seen, last_seen, removed_at)
                 SELECT isin, lei, substr(isin, 1, 2), @now, @now, NULL FROM temp.{Stage} WHERE true
                 ON CONFLICT (isin) DO UPDATE SET lei = excluded.lei, last_seen = excluded.last_seen, removed_at = NULL
                 """, cancellationToken, now);
            var after = await ScalarAsync(connection, transaction, "SELECT count(*) FROM isins", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new IsinLoadResult(listed, after - before, removed);
        }
        finally
        {
            await ExecuteAsync(connection, null, $"DROP TABLE IF EXISTS temp.{Stage}", CancellationToken.None);
        }
    }

    /// <summary>Refuses a file with no valid row, or with more invalid rows than allowed, before anything is swapped in.</summary>
    private void CheckStaged(IsinFile file)
    {
        var valid = file.Rows - file.InvalidRows;
        if (valid <= 0)
        {
            throw new InvalidDataException(file.Rows == 0
                ? "The file has no rows; the current list is kept."
                : $"None of the file's {file.Rows} rows is a valid ISIN (first: {string.Join("; ", file.InvalidSamples)}); the current list is kept.");
        }

        var percent = 100.0 * file.InvalidRows / file.Rows;
        if (percent > options.Value.MaxInvalidPercent)
        {
            throw new InvalidDataException(
                $"{file.InvalidRows} of {file.Rows} rows are invalid ({percent:0.##}%, more than Jobs:Isin:MaxInvalidPercent = {options.Value.MaxInvalidPercent}); " +
                $"the current list is kept. First: {string.Join("; ", file.InvalidSamples)}");
        }
    }

    private void CheckRemoved(long active, long removed)
    {
        var limit = options.Value.MaxRemovedPercent;
        if (active > 0 && limit < 100 && 100.0 * removed / active > limit)
        {
            throw new InvalidDataException(
                $"The file would remove {removed} of the {active} listed ISINs (more than Jobs:Isin:MaxRemovedPercent = {limit}%); the current list is kept.");
        }
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, DateTime? now = null)
    {
        await using var command = Command(connection, transaction, sql, now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> ScalarAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, null);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, DateTime? now)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        if (connection is not SqliteConnection)
        {
            command.CommandTimeout = 0; // a large list takes minutes; the job's cancellation token still stops it
        }
        if (now is { } value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@now";
            parameter.Value = DateTime.SpecifyKind(value, DateTimeKind.Utc);
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
