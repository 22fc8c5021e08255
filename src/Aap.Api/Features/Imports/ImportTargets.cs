using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using SQLitePCL;

namespace Aap.Api.Features.Imports;

/// <summary>A column of a table that already exists: its type when imports can write it (null otherwise).</summary>
internal sealed record ExistingColumn(string Name, string DeclaredType, ImportColumnType? Type, bool NotNull, bool HasDefault, bool PrimaryKey);

/// <summary>What is loaded: the target's columns in file order (the key among them, or a generated key apart).</summary>
internal sealed record LoadPlan(string Table, IReadOnlyList<ImportColumn> Columns, string Key, bool GeneratedKey, ImportMode Mode, bool Exists);

/// <summary>Runs inside an import's data transaction, just before its COMMIT, with the number of rows loaded.</summary>
internal delegate Task ImportCommitting(long loaded, DbTransaction transaction, CancellationToken cancellationToken);

/// <summary>Thrown when the final statement hits the key of a row already in the table (append mode).</summary>
internal sealed class ImportKeyConflictException(string message, Exception inner) : Exception(message, inner);

/// <summary>Thrown when the table appeared (or vanished) between the check and the commit.</summary>
internal sealed class ImportTableConflictException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Where an import's rows go: first a stage table the reader fills row by row (synchronously: the reader's rows
/// are ref structs), then one transaction that creates the target when missing and moves the rows over. Until that
/// transaction commits the target is untouched, whatever happens to the process.
/// </summary>
internal abstract class ImportTarget : IAsyncDisposable
{
    /// <summary>The column holding each staged row's line number: never a normalised name (those never start with <c>_</c>).</summary>
    protected const string LineColumn = "_line";

    /// <summary>The table's name as SQL shows it, for messages: <c>imports.sales</c> or <c>import_sales</c>.</summary>
    public abstract string DisplayName(string table);

    /// <summary>The refusal of a row whose key the target already holds, in a mode that does not update.</summary>
    protected ImportKeyConflictException AlreadyPresent(LoadPlan plan, string? detail, Exception error) => new(
        $"A key of the file is already in {DisplayName(plan.Table)} ({detail}); use --mode upsert to update such rows, or --mode replace. Nothing was written.", error);

    public abstract Task<IReadOnlyList<ExistingColumn>?> DescribeAsync(string table, CancellationToken cancellationToken);

    public abstract Task BeginAsync(LoadPlan plan, CancellationToken cancellationToken);

    public abstract void Write(ReadOnlySpan<ImportValue> values, long line);

    /// <summary>
    /// Moves the staged rows into the target in one transaction; returns the rows inserted or updated.
    /// <paramref name="committing"/>, when given, runs in that transaction just before its COMMIT, with the rows
    /// loaded: what it writes (the import's recorded outcome) commits with the rows or not at all.
    /// </summary>
    public abstract Task<long> CommitAsync(LoadPlan plan, ImportCommitting? committing, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Quotes an identifier (doubling any quote inside), so that no name is ever SQL text of its own.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    protected static string ColumnList(IEnumerable<string> names) => string.Join(", ", names.Select(Quote));

    protected static string UpdateList(LoadPlan plan) =>
        string.Join(", ", plan.Columns.Where(c => c.Name != plan.Key).Select(c => $"{Quote(c.Name)} = excluded.{Quote(c.Name)}"));

    protected static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0; // a large import takes minutes; the caller's token still stops it
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// PostgreSQL: targets in schema <c>imports</c>; rows staged by binary COPY (<see cref="NpgsqlBinaryImporter"/>)
/// into an UNLOGGED table of schema <c>imports_stage</c>, held by a session advisory lock: a later import drops the
/// stage of a process that died (its lock is gone with its session). A new table in <c>create</c> mode needs no
/// stage: it is created, and the rows copied straight into it, in one transaction (a killed process leaves no table),
/// which saves the second pass; a key that is twice in the file then fails the import instead of the last row winning.
/// </summary>
internal sealed class PostgresImportTarget(string connectionString, Guid importId) : ImportTarget
{
    private const string Schema = "imports";
    private const string StageSchema = "imports_stage";
    private const int LockClass = 16016;

    private readonly NpgsqlConnection _connection = new(connectionString);
    private readonly string _stage = $"s_{importId:N}";
    private NpgsqlRawCopyStream? _copy;
    private PgBinaryRows? _rows;
    private NpgsqlTransaction? _direct;
    private bool _staged;

    public override string DisplayName(string table) => $"{Schema}.{table}";

    private static string Target(string table) => $"{Quote(Schema)}.{Quote(table)}";

    private string Stage => $"{Quote(StageSchema)}.{Quote(_stage)}";

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            await _connection.OpenAsync(cancellationToken);
        }
    }

    public override async Task<IReadOnlyList<ExistingColumn>?> DescribeAsync(string table, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef OR a.attidentity <> '',
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey))
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = @schema AND c.relname = @table AND c.relkind IN ('r', 'p')
            ORDER BY a.attnum
            """, _connection);
        command.Parameters.AddWithValue("schema", Schema);
        command.Parameters.AddWithValue("table", table);
        var columns = new List<ExistingColumn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var declared = reader.GetString(1);
            columns.Add(new ExistingColumn(reader.GetString(0), declared, TypeOf(declared), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4)));
        }

        return columns.Count == 0 ? null : columns;
    }

    private static ImportColumnType? TypeOf(string declared) => declared switch
    {
        "integer" => ImportColumnType.Integer,
        "bigint" => ImportColumnType.Bigint,
        "numeric" => ImportColumnType.Decimal,
        "boolean" => ImportColumnType.Boolean,
        "date" => ImportColumnType.Date,
        "timestamp with time zone" => ImportColumnType.Timestamp,
        "text" => ImportColumnType.Text,
        _ => null,
    };

    private static string SqlType(ImportColumnType type) => type switch
    {
        ImportColumnType.Integer => "integer",
        ImportColumnType.Bigint => "bigint",
        ImportColumnType.Decimal => "numeric",
        ImportColumnType.Boolean => "boolean",
        ImportColumnType.Date => "date",
        ImportColumnType.Timestamp => "timestamp with time zone",
        _ => "text",
    };

    public override async Task BeginAsync(LoadPlan plan, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        var columns = plan.Columns;
        if (!plan.Exists && plan.Mode == ImportMode.Create)
        {
            await EnsureSchemaAsync(Schema, cancellationToken);
            _direct = await _connection.BeginTransactionAsync(cancellationToken);
            await CreateTableAsync(plan, _direct, cancellationToken);
            _copy = await _connection.BeginRawBinaryCopyAsync(
                $"COPY {Target(plan.Table)} ({ColumnList(columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            _rows = new PgBinaryRows(_copy, columns, line: false);
            return;
        }

        await EnsureSchemaAsync(StageSchema, cancellationToken);
        await SweepAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@class, hashtext(@name))", _connection))
        {
            lockCommand.Parameters.AddWithValue("class", LockClass);
            lockCommand.Parameters.AddWithValue("name", _stage);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        var definition = string.Join(", ", columns.Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}"));
        await ExecuteAsync(_connection, null, $"CREATE UNLOGGED TABLE {Stage} ({Quote(LineColumn)} bigint NOT NULL, {definition})", cancellationToken);
        _staged = true;
        _copy = await _connection.BeginRawBinaryCopyAsync(
            $"COPY {Stage} ({Quote(LineColumn)}, {ColumnList(columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        _rows = new PgBinaryRows(_copy, columns, line: true);
    }

    /// <summary>Drops the stages of imports whose session is gone (a killed process): their advisory lock is free.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        await using (var list = new NpgsqlCommand(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relkind = 'r' AND pg_try_advisory_lock(@class, hashtext(c.relname))
            """, _connection))
        {
            list.Parameters.AddWithValue("schema", StageSchema);
            list.Parameters.AddWithValue("class", LockClass);
            await using var reader = await list.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stale.Add(reader.GetString(0));
            }
        }

        foreach (var name in stale)
        {
            await ExecuteAsync(_connection, null, $"DROP TABLE IF EXISTS {Quote(StageSchema)}.{Quote(name)}", cancellationToken);
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@class, hashtext(@name))", _connection);
            unlock.Parameters.AddWithValue("class", LockClass);
            unlock.Parameters.AddWithValue("name", name);
            await unlock.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task EnsureSchemaAsync(string schema, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(_connection, null, $"CREATE SCHEMA IF NOT EXISTS {Quote(schema)}", cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another import created it at the same moment.
        }
    }

    public override void Write(ReadOnlySpan<ImportValue> values, long line) => _rows!.Write(values, line);

    private async Task CreateTableAsync(LoadPlan plan, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var columns = plan.Columns.Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}{(c.Name == plan.Key ? " NOT NULL" : "")}");
        var key = plan.GeneratedKey ? $"{Quote(plan.Key)} bigint GENERATED ALWAYS AS IDENTITY, " : "";
        try
        {
            await ExecuteAsync(_connection, transaction,
                $"CREATE TABLE {Target(plan.Table)} ({key}{string.Join(", ", columns)}, PRIMARY KEY ({Quote(plan.Key)}))", cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.UniqueViolation)
        {
            throw new ImportTableConflictException($"The table {DisplayName(plan.Table)} was created by someone else during the import; nothing was written.", ex);
        }
    }

    public override async Task<long> CommitAsync(LoadPlan plan, ImportCommitting? committing, CancellationToken cancellationToken)
    {
        if (_direct is not null)
        {
            var copied = _rows!.Rows;
            try
            {
                await CompleteCopyAsync();
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ImportKeyConflictException($"A key is twice in the file ({ex.Detail}); a new table needs unique keys (upsert or replace keep the last row). Nothing was written.", ex);
            }

            if (committing is not null)
            {
                await committing(copied, _direct, cancellationToken);
            }

            // Not cancellable: a COMMIT cut short may still commit on the server while the caller sees a cancel (and runs it again).
            await _direct.CommitAsync(CancellationToken.None);
            return copied;
        }

        cancellationToken.ThrowIfCancellationRequested();
        await CompleteCopyAsync();
        await ExecuteAsync(_connection, null, $"ANALYZE {Stage}", cancellationToken);
        await EnsureSchemaAsync(Schema, cancellationToken);
        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        var target = Target(plan.Table);
        if (!plan.Exists)
        {
            await CreateTableAsync(plan, transaction, cancellationToken);
        }
        else if (plan.Mode == ImportMode.Replace)
        {
            await ExecuteAsync(_connection, transaction, $"TRUNCATE {target}", cancellationToken);
        }

        var names = ColumnList(plan.Columns.Select(c => c.Name));
        var select = plan.GeneratedKey
            ? $"SELECT {names} FROM {Stage} ORDER BY {Quote(LineColumn)}"
            : $"SELECT DISTINCT ON ({Quote(plan.Key)}) {names} FROM {Stage} ORDER BY {Quote(plan.Key)}, {Quote(LineColumn)} DESC";
        var conflict = plan.Mode == ImportMode.Upsert
            ? UpdateList(plan) is { Length: > 0 } updates ? $" ON CONFLICT ({Quote(plan.Key)}) DO UPDATE SET {updates}" : $" ON CONFLICT ({Quote(plan.Key)}) DO NOTHING"
            : "";
        long loaded;
        try
        {
            loaded = await ExecuteAsync(_connection, transaction, $"INSERT INTO {target} ({names}) {select}{conflict}", cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw AlreadyPresent(plan, ex.Detail, ex);
        }

        if (committing is not null)
        {
            await committing(loaded, transaction, cancellationToken);
        }

        // Not cancellable: a COMMIT cut short may still commit on the server while the caller sees a cancel (and runs it again).
        await transaction.CommitAsync(CancellationToken.None);
        return loaded;
    }

    /// <summary>Sends the trailer and ends the COPY (disposing a raw COPY stream completes it; a server error throws here).</summary>
    private async Task CompleteCopyAsync()
    {
        _rows!.Finish();
        var copy = _copy!;
        _copy = null;
        await copy.DisposeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_copy is not null)
        {
            try
            {
                await _copy.CancelAsync(); // nothing of the COPY stays
                await _copy.DisposeAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                // The connection broke; the stage goes with the session's lock and is swept by the next import.
            }
        }

        if (_direct is not null)
        {
            try
            {
                await _direct.DisposeAsync(); // rolls back the new table, if not committed
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // The connection broke: the server rolls the transaction back.
            }
        }

        if (_staged && _connection.State == System.Data.ConnectionState.Open)
        {
            try
            {
                await ExecuteAsync(_connection, null, $"DROP TABLE IF EXISTS {Stage}", CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // As above: the next import sweeps it.
            }
        }

        await _connection.DisposeAsync();
    }
}

/// <summary>
/// SQLite: targets named <c>import_&lt;table&gt;</c>; rows staged into a temporary table (the temporary database:
/// the main file's write lock is not held while the file is read) by one prepared single-row INSERT reused in
/// one transaction; then one IMMEDIATE transaction on the main database moves them over.
/// </summary>
internal sealed class SqliteImportTarget(string connectionString) : ImportTarget
{
    public const string Prefix = "import_";
    private const string Stage = "temp.\"import_stage\"";

    private readonly SqliteConnection _connection = new(connectionString);
    private SqliteTransaction? _staging;
    private sqlite3_stmt? _insert;
    private ImportColumnType[] _types = [];

    public override string DisplayName(string table) => Prefix + table;

    private static string Target(string table) => Quote(Prefix + table);

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            await _connection.OpenAsync(cancellationToken);
        }
    }

    public override async Task<IReadOnlyList<ExistingColumn>?> DescribeAsync(string table, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info($table, 'main')";
        command.Parameters.AddWithValue("$table", Prefix + table);
        var columns = new List<ExistingColumn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var declared = reader.GetString(1);
            var primaryKey = reader.GetInt64(4) > 0;
            // INTEGER PRIMARY KEY is the rowid: generated when not given.
            var rowid = primaryKey && declared.Equals("INTEGER", StringComparison.OrdinalIgnoreCase);
            columns.Add(new ExistingColumn(reader.GetString(0), declared, TypeOf(declared), reader.GetBoolean(2), reader.GetBoolean(3) || rowid, primaryKey));
        }

        return columns.Count == 0 ? null : columns;
    }

    private static ImportColumnType? TypeOf(string declared) => declared.ToUpperInvariant() switch
    {
        "INTEGER" => ImportColumnType.Integer,
        "BIGINT" => ImportColumnType.Bigint,
        "DECIMAL" => ImportColumnType.Decimal,
        "BOOLEAN" => ImportColumnType.Boolean,
        "DATE" => ImportColumnType.Date,
        "TIMESTAMP" => ImportColumnType.Timestamp,
        "TEXT" => ImportColumnType.Text,
        _ => null,
    };

    private static string SqlType(ImportColumnType type) => type switch
    {
        ImportColumnType.Integer => "INTEGER",
        ImportColumnType.Bigint => "BIGINT",
        ImportColumnType.Decimal => "DECIMAL",
        ImportColumnType.Boolean => "BOOLEAN",
        ImportColumnType.Date => "DATE",
        ImportColumnType.Timestamp => "TIMESTAMP",
        _ => "TEXT",
    };

    public override async Task BeginAsync(LoadPlan plan, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        var columns = plan.Columns;
        _types = [.. columns.Select(c => c.Type)];
        var definition = string.Join(", ", columns.Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}"));
        // The line is the stage's rowid: rows arrive in line order, so reading them back in that order needs no sort.
        await ExecuteAsync(_connection, null, $"DROP TABLE IF EXISTS {Stage}; CREATE TEMP TABLE \"import_stage\" ({Quote(LineColumn)} INTEGER PRIMARY KEY, {definition})",
            cancellationToken);
        // Deferred: the stage is in the temporary database, so this transaction never takes the main file's write lock.
        _staging = _connection.BeginTransaction(deferred: true);
        // One statement prepared on the connection's own handle (so inside that transaction), its values bound by
        // position: Microsoft.Data.Sqlite's command looks every parameter up by name and boxes every value, per row.
        var sql = $"INSERT INTO {Stage} ({Quote(LineColumn)}, {ColumnList(columns.Select(c => c.Name))}) " +
            $"VALUES ({string.Join(", ", Enumerable.Repeat("?", columns.Count + 1))})";
        var rc = raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement);
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        _insert = statement;
    }

    public override void Write(ReadOnlySpan<ImportValue> values, long line)
    {
        var statement = _insert!;
        raw.sqlite3_bind_int64(statement, 1, line);
        Span<char> text = stackalloc char[40];
        for (var i = 0; i < values.Length; i++)
        {
            ref readonly var value = ref values[i];
            var index = i + 2;
            if (value.IsNull)
            {
                raw.sqlite3_bind_null(statement, index);
                continue;
            }

            // The same values as before: integers and booleans as integers, the rest as text (DECIMAL's affinity
            // stores the number), dates as yyyy-MM-dd, timestamps as yyyy-MM-dd HH:mm:ss.FFFFFFF (UTC).
            int length;
            switch (_types[i])
            {
                case ImportColumnType.Integer or ImportColumnType.Bigint:
                    raw.sqlite3_bind_int64(statement, index, value.Long);
                    continue;
                case ImportColumnType.Boolean:
                    raw.sqlite3_bind_int64(statement, index, value.Bool ? 1 : 0);
                    continue;
                case ImportColumnType.Decimal:
                    value.Decimal.TryFormat(text, out length, default, CultureInfo.InvariantCulture);
                    break;
                case ImportColumnType.Date:
                    value.Date.TryFormat(text, out length, "yyyy-MM-dd", CultureInfo.InvariantCulture);
                    break;
                case ImportColumnType.Timestamp:
                    length = ImportValues.FormatTimestamp(value.Timestamp, text);
                    break;
                default:
                    raw.sqlite3_bind_text16(statement, index, value.Text.Span);
                    continue;
            }

            raw.sqlite3_bind_text16(statement, index, text[..length]);
        }

        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }

    public override async Task<long> CommitAsync(LoadPlan plan, ImportCommitting? committing, CancellationToken cancellationToken)
    {
        _insert?.Dispose();
        _insert = null;
        await _staging!.CommitAsync(cancellationToken);
        await _staging.DisposeAsync();
        _staging = null;
        await using var transaction = _connection.BeginTransaction(deferred: false);
        var target = Target(plan.Table);
        if (!plan.Exists)
        {
            var keyType = plan.GeneratedKey ? "INTEGER" : null;
            var columns = plan.Columns.Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}{(c.Name == plan.Key ? " NOT NULL PRIMARY KEY" : "")}");
            var key = keyType is null ? "" : $"{Quote(plan.Key)} INTEGER PRIMARY KEY, ";
            try
            {
                await ExecuteAsync(_connection, transaction, $"CREATE TABLE {target} ({key}{string.Join(", ", columns)})", cancellationToken);
            }
            catch (SqliteException ex) when (ex.Message.Contains("already exists", StringComparison.Ordinal))
            {
                throw new ImportTableConflictException($"The table {DisplayName(plan.Table)} was created by someone else during the import; nothing was written.", ex);
            }
        }
        else if (plan.Mode == ImportMode.Replace)
        {
            await ExecuteAsync(_connection, transaction, $"DELETE FROM {target}", cancellationToken);
        }

        var names = ColumnList(plan.Columns.Select(c => c.Name));
        var line = Quote(LineColumn);
        // A new table in create mode takes the rows as they are, as PostgreSQL's direct COPY does: a key twice is an error.
        var fresh = !plan.Exists && plan.Mode == ImportMode.Create;
        var select = plan.GeneratedKey || fresh
            ? $"SELECT {names} FROM {Stage} WHERE true ORDER BY {line}"
            : $"SELECT {names} FROM {Stage} WHERE {line} IN (SELECT max({line}) FROM {Stage} GROUP BY {Quote(plan.Key)}) ORDER BY {line}";
        var conflict = plan.Mode == ImportMode.Upsert
            ? UpdateList(plan) is { Length: > 0 } updates ? $" ON CONFLICT ({Quote(plan.Key)}) DO UPDATE SET {updates}" : $" ON CONFLICT ({Quote(plan.Key)}) DO NOTHING"
            : "";
        long loaded;
        try
        {
            loaded = await ExecuteAsync(_connection, transaction, $"INSERT INTO {target} ({names}) {select}{conflict}", cancellationToken);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19 && fresh)
        {
            throw new ImportKeyConflictException($"A key is twice in the file ({ex.Message}); a new table needs unique keys (upsert or replace keep the last row). Nothing was written.", ex);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw AlreadyPresent(plan, ex.Message, ex);
        }

        if (committing is not null)
        {
            await committing(loaded, transaction, cancellationToken);
        }

        // Not cancellable: a COMMIT cut short may still commit on the server while the caller sees a cancel (and runs it again).
        await transaction.CommitAsync(CancellationToken.None);
        return loaded;
    }

    public override async ValueTask DisposeAsync()
    {
        _insert?.Dispose();

        if (_staging is not null)
        {
            await _staging.DisposeAsync(); // rolls the stage back
        }

        if (_connection.State == System.Data.ConnectionState.Open)
        {
            await ExecuteAsync(_connection, null, $"DROP TABLE IF EXISTS {Stage}", CancellationToken.None);
        }

        await _connection.DisposeAsync();
    }
}
