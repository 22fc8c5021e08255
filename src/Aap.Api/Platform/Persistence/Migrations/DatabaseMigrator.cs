using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Persistence.Migrations;

/// <summary>
/// One versioned SQL script, embedded in the assembly under <c>Migrations/{Provider}/NNNN_name.sql</c>. A script
/// that nodes of an older build cannot run against (it drops, renames or narrows what they use) says so in its header
/// with a line <c>-- breaks-older-nodes: why</c> (docs/database.md#rolling-upgrades).
/// </summary>
internal sealed partial record MigrationScript(string Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    /// <summary>Why older nodes cannot run against the schema once this script is applied; null for an additive script.</summary>
    public string? BreaksOlderNodes { get; } = BreaksOlderNodesLine().Match(Sql) is { Success: true } match ? match.Groups[1].Value.Trim() : null;

    [System.Text.RegularExpressions.GeneratedRegex(@"^--\s*breaks-older-nodes:\s*(\S.*)$", System.Text.RegularExpressions.RegexOptions.Multiline | System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex BreaksOlderNodesLine();
}

/// <summary>A migration recorded in <c>schema_migrations</c>; <paramref name="BreaksOlderNodes"/> as its script's header said when it was applied.</summary>
internal sealed record AppliedMigration(string Version, string Name, string Checksum, DateTime AppliedAt, string? BreaksOlderNodes = null);

internal sealed record MigrationStatus(
    IReadOnlyList<AppliedMigration> Applied,
    IReadOnlyList<MigrationScript> Pending,
    IReadOnlyList<string> Unknown);

/// <summary>
/// Applies the versioned, forward-only SQL scripts of the configured provider and records them in
/// <c>schema_migrations</c>. Safe when several nodes start at once: PostgreSQL runs under an advisory lock, SQLite
/// inside one immediate (write-locking) transaction. A script that was edited after it was applied stops the run:
/// fixes go into a new script.
/// <para>
/// Rolling upgrades: a node of an older build starts and serves against a database that a newer build migrated
/// (it warns about the scripts it does not know), unless one of those scripts was recorded as breaking older nodes:
/// then it refuses to start, and its readiness check fails if it is already running, so that a load balancer takes it
/// out instead of letting it fail requests.
/// </para>
/// </summary>
internal sealed partial class DatabaseMigrator(
    AppDbContext db, IOptions<DatabaseOptions> options, TimeProvider clock, IEnumerable<IMigrationFollowUp> followUps, ILogger<DatabaseMigrator> logger,
    MigrationCatalog catalog)
{
    /// <summary>The advisory lock nodes take turns on to change the schema or seed it.</summary>
    internal const long PostgresLockKey = 0x4141505F4D494752; // "AAP_MIGR"

    private DatabaseProvider Provider => options.Value.ProviderKind;

    public IReadOnlyList<MigrationScript> Scripts => catalog.For(Provider);

    public async Task<MigrationStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        var applied = await ReadAppliedAsync(connection, null, cancellationToken);
        return Compare(applied);
    }

    public async Task<IReadOnlyList<MigrationScript>> MigrateAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        return Provider == DatabaseProvider.Postgres
            ? await MigratePostgresAsync(connection, cancellationToken)
            : await MigrateSqliteAsync(connection, cancellationToken);
    }

    private async Task<IReadOnlyList<MigrationScript>> MigrateSqliteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // WAL lets readers go on while a writer works; the setting is kept in the database file.
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", cancellationToken);

        // Microsoft.Data.Sqlite begins non-deferred transactions with BEGIN IMMEDIATE: a second process waits here.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, HistoryTableSql, cancellationToken);
        await AddBreaksOlderColumnAsync(connection, transaction, cancellationToken);
        var pending = await PendingAsync(connection, transaction, cancellationToken);
        foreach (var script in pending)
        {
            await ApplyAsync(connection, transaction, script, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);

        // After the commit: a follow-up opens connections of its own, which the write lock above would keep waiting.
        await RunFollowUpsAsync(cancellationToken);
        return pending;
    }

    private async Task<IReadOnlyList<MigrationScript>> MigratePostgresAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({PostgresLockKey});", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, HistoryTableSql, cancellationToken);
            await AddBreaksOlderColumnAsync(connection, null, cancellationToken);
            var pending = await PendingAsync(connection, null, cancellationToken);
            foreach (var script in pending)
            {
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
                await ApplyAsync(connection, transaction, script, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            await RunFollowUpsAsync(cancellationToken);
            return pending;
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({PostgresLockKey});", CancellationToken.None);
        }
    }

    private async Task RunFollowUpsAsync(CancellationToken cancellationToken)
    {
        foreach (var followUp in followUps)
        {
            await followUp.RunAsync(cancellationToken);
        }
    }

    private async Task<IReadOnlyList<MigrationScript>> PendingAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var status = Compare(await ReadAppliedAsync(connection, transaction, cancellationToken));
        if (status.Unknown.Count > 0)
        {
            LogUnknownMigrations(string.Join(", ", status.Unknown));
        }

        return status.Pending;
    }

    // The column was added after the table: a database migrated by an older build gets it on the next run.
    private async Task AddBreaksOlderColumnAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            await ExecuteAsync(connection, transaction, "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS breaks_older_nodes varchar(500) NULL;", cancellationToken);
            return;
        }

        if (!await HasBreaksOlderColumnAsync(connection, transaction, cancellationToken))
        {
            await ExecuteAsync(connection, transaction, "ALTER TABLE schema_migrations ADD COLUMN breaks_older_nodes TEXT NULL;", cancellationToken);
        }
    }

    private static async Task<bool> HasBreaksOlderColumnAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = connection is Microsoft.Data.Sqlite.SqliteConnection
            ? "SELECT COUNT(*) FROM pragma_table_info('schema_migrations') WHERE name = 'breaks_older_nodes';"
            : "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'schema_migrations' AND column_name = 'breaks_older_nodes';";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private MigrationStatus Compare(IReadOnlyList<AppliedMigration> applied)
    {
        var byVersion = applied.ToDictionary(a => a.Version, StringComparer.Ordinal);
        foreach (var script in Scripts)
        {
            if (byVersion.TryGetValue(script.Version, out var done) && done.Checksum != script.Checksum)
            {
                throw new InvalidOperationException(
                    $"Migration {script.Version}_{script.Name} was changed after it was applied (checksum {done.Checksum}, now {script.Checksum}). " +
                    "Migrations are forward-only: restore the script and put the change in a new one.");
            }
        }

        var known = Scripts.Select(s => s.Version).ToHashSet(StringComparer.Ordinal);
        if (applied.FirstOrDefault(a => !known.Contains(a.Version) && a.BreaksOlderNodes is not null) is { } breaking)
        {
            throw new IncompatibleDatabaseException(
                $"The database has migration {breaking.Version}_{breaking.Name}, applied by a newer build, which older builds cannot run against " +
                $"({breaking.BreaksOlderNodes}). This node runs an older build: deploy the newer one here (docs/database.md#rolling-upgrades).");
        }

        return new MigrationStatus(
            applied,
            Scripts.Where(s => !byVersion.ContainsKey(s.Version)).ToList(),
            applied.Where(a => !known.Contains(a.Version)).Select(a => a.Version).ToList());
    }

    private async Task ApplyAsync(DbConnection connection, DbTransaction transaction, MigrationScript script, CancellationToken cancellationToken)
    {
        LogApplying(script.Version, script.Name);
        await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);

        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO schema_migrations (version, name, checksum, applied_at, breaks_older_nodes) VALUES (@version, @name, @checksum, @applied_at, @breaks_older_nodes);";
        AddParameter(insert, "@breaks_older_nodes", (object?)script.BreaksOlderNodes ?? DBNull.Value);
        AddParameter(insert, "@version", script.Version);
        AddParameter(insert, "@name", script.Name);
        AddParameter(insert, "@checksum", script.Checksum);
        AddParameter(insert, "@applied_at", clock.GetUtcNow().UtcDateTime);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = connection is Microsoft.Data.Sqlite.SqliteConnection
            ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations';"
            : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations';";
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return [];
        }

        // A database an older build migrated may not have the column yet (it is added by the next migration run).
        var breaks = await HasBreaksOlderColumnAsync(connection, transaction, cancellationToken) ? "breaks_older_nodes" : "NULL";
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = $"SELECT version, name, checksum, applied_at, {breaks} FROM schema_migrations ORDER BY version;";
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var applied = new List<AppliedMigration>();
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(new AppliedMigration(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc),
                reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return applied;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }

        return connection;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private string HistoryTableSql => $"""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    varchar(32)  NOT NULL PRIMARY KEY,
            name       varchar(200) NOT NULL,
            checksum   varchar(64)  NOT NULL,
            applied_at {(Provider == DatabaseProvider.Postgres ? "timestamp with time zone" : "TEXT")} NOT NULL,
            breaks_older_nodes {(Provider == DatabaseProvider.Postgres ? "varchar(500)" : "TEXT")} NULL
        );
        """;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying migration {Version} {Name}")]
    private partial void LogApplying(string version, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database has migrations this build does not know ({Versions}); a newer build has run against it")]
    private partial void LogUnknownMigrations(string versions);
}

/// <summary>The database was migrated by a newer build with a script that older builds cannot run against.</summary>
internal sealed class IncompatibleDatabaseException(string message) : InvalidOperationException(message);

/// <summary>
/// Schema work that is not a versioned script (a library's own tables, such as the scheduler's), run after the
/// scripts on every migration: under the advisory lock on PostgreSQL, right after the write transaction on SQLite.
/// It must be safe to run again.
/// </summary>
internal interface IMigrationFollowUp
{
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The scripts a build knows, per provider: those embedded in the assembly (<see cref="Embedded"/>), which is what the
/// application registers. A catalog with more scripts is what a newer build knows (the rolling-upgrade tests use one).
/// </summary>
internal sealed class MigrationCatalog(IReadOnlyDictionary<DatabaseProvider, IReadOnlyList<MigrationScript>> scripts)
{
    public static MigrationCatalog Embedded { get; } = new(Enum.GetValues<DatabaseProvider>().ToDictionary(p => p, MigrationScripts.For));

    public IReadOnlyList<MigrationScript> For(DatabaseProvider provider) => scripts[provider];

    /// <summary>This catalog and one more script for <paramref name="provider"/>, in version order.</summary>
    public MigrationCatalog With(DatabaseProvider provider, MigrationScript script) =>
        new(scripts.ToDictionary(p => p.Key, p => p.Key == provider
            ? (IReadOnlyList<MigrationScript>)p.Value.Append(script).OrderBy(s => s.Version, StringComparer.Ordinal).ToList()
            : p.Value));
}

internal static class MigrationScripts
{
    private static readonly Dictionary<DatabaseProvider, IReadOnlyList<MigrationScript>> Cache = Enum.GetValues<DatabaseProvider>()
        .ToDictionary(p => p, Load);

    public static IReadOnlyList<MigrationScript> For(DatabaseProvider provider) => Cache[provider];

    private static IReadOnlyList<MigrationScript> Load(DatabaseProvider provider)
    {
        var assembly = typeof(MigrationScripts).Assembly;
        var prefix = $"migrations/{provider}/";
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var fileName = Path.GetFileNameWithoutExtension(resource[prefix.Length..]);
            var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0)
            {
                throw new InvalidOperationException($"Migration resource '{resource}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            scripts.Add(new MigrationScript(fileName[..underscore], fileName[(underscore + 1)..], reader.ReadToEnd()));
        }

        return scripts.OrderBy(s => s.Version, StringComparer.Ordinal).ToList();
    }
}
