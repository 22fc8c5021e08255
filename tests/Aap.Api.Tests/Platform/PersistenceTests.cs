using System.Data.Common;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Platform.Persistence.Seeding;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Platform;

/// <summary>Migrations, seeding and the entity conventions, on the real database of each provider.</summary>
public abstract class PersistenceTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_migrated_schema_has_every_table_column_and_index_of_the_model()
    {
        await factory.DbAsync(async db =>
        {
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync(Ct);
            foreach (var entity in db.Model.GetEntityTypes())
            {
                var table = entity.GetTableName()!;
                var columns = await ColumnsAsync(connection, factory.Provider, table);
                columns.ShouldNotBeEmpty($"table {table} is missing");
                foreach (var property in entity.GetProperties())
                {
                    var column = property.GetColumnName();
                    columns.ShouldContainKey(column, $"{table}.{column} is missing");
                    columns[column].ShouldBe(property.IsNullable, $"{table}.{column} nullability differs from the model");
                }

                var indexes = await IndexesAsync(connection, factory.Provider, table);
                foreach (var index in entity.GetIndexes())
                {
                    indexes.ShouldContain(index.GetDatabaseName()!, $"index {index.GetDatabaseName()} on {table} is missing");
                }
            }
        });
    }

    [Fact]
    public async Task Migrating_an_up_to_date_database_applies_nothing()
    {
        var applied = await factory.ServiceAsync<DatabaseMigrator, IReadOnlyList<MigrationScript>>(m => m.MigrateAsync(Ct));
        var status = await factory.ServiceAsync<DatabaseMigrator, MigrationStatus>(m => m.GetStatusAsync(Ct));

        applied.ShouldBeEmpty();
        status.Pending.ShouldBeEmpty();
        status.Applied.Select(a => a.Version).ShouldBe(MigrationScripts.For(factory.Provider).Select(s => s.Version));
        status.Applied.ShouldAllBe(a => a.Checksum.Length == 64);
    }

    [Fact]
    public async Task Nodes_that_migrate_one_fresh_database_at_once_apply_each_script_once()
    {
        await using var fresh = await FreshDatabase.CreateAsync(factory.Provider);

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var db = fresh.Context();
            return await fresh.Migrator(db).MigrateAsync(Ct);
        }, Ct)));

        runs.Sum(r => r.Count).ShouldBe(MigrationScripts.For(factory.Provider).Count);
        await using var check = fresh.Context();
        var status = await fresh.Migrator(check).GetStatusAsync(Ct);
        status.Pending.ShouldBeEmpty();
        status.Applied.Count.ShouldBe(MigrationScripts.For(factory.Provider).Count);
    }

    [Fact]
    public async Task A_script_changed_after_it_was_applied_stops_the_migration()
    {
        await using var fresh = await FreshDatabase.CreateAsync(factory.Provider);
        await using var db = fresh.Context();
        await fresh.Migrator(db).MigrateAsync(Ct);
        await db.Database.ExecuteSqlRawAsync("UPDATE schema_migrations SET checksum = 'edited'", Ct);

        var error = await Should.ThrowAsync<InvalidOperationException>(() => fresh.Migrator(db).MigrateAsync(Ct));

        error.Message.ShouldContain("was changed after it was applied");
    }

    [Fact]
    public async Task A_database_with_pending_migrations_is_not_ready()
    {
        // A host of the same provider on a database of its own that is never migrated.
        await using var host = factory.Provider == DatabaseProvider.Postgres ? (AapFactory)new PostgresFactory() : new SqliteFactory();
        host.With("Database:MigrateOnStart", "false").With("Database:SeedProfile", "");
        await host.InitializeAsync();

        using var response = await host.Client().GetAsync("/health/ready", Ct);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.ServiceUnavailable);
        (await response.JsonAsync()).GetProperty("checks").GetProperty("database").GetProperty("status").GetString().ShouldBe("Unhealthy");
    }

    [Fact]
    public async Task Seeding_twice_changes_nothing()
    {
        var countsBefore = await CountsAsync();

        var first = await factory.ServiceAsync<Seeder, int>(s => s.SeedAsync(SeedProfiles.Test, Ct));
        var second = await factory.ServiceAsync<Seeder, int>(s => s.SeedAsync(SeedProfiles.Test, Ct));

        first.ShouldBe(0, "the test profile was seeded at start");
        second.ShouldBe(0);
        (await CountsAsync()).ShouldBe(countsBefore);
    }

    [Fact]
    public async Task The_demo_profile_inserts_categories_before_the_apps_that_use_them_and_only_once()
    {
        // A deployment of its own, seeded with the demo profile as it starts (through the features' own services).
        await using AapFactory demo = factory.Provider == DatabaseProvider.Postgres ? new PostgresFactory() : new SqliteFactory();
        demo.With("Database:SeedProfile", SeedProfiles.Demo);
        await demo.InitializeAsync();

        var again = await demo.ServiceAsync<Seeder, int>(seeder => seeder.SeedAsync(SeedProfiles.Demo, Ct));

        again.ShouldBe(0);
        await demo.DbAsync(async db =>
        {
            (await db.Set<App>().CountAsync(a => a.CategoryId == null, Ct)).ShouldBe(0);
            (await db.Set<App>().Include(a => a.Category).Where(a => a.Name == "Duolingo").Select(a => a.Category!.Slug).SingleAsync(Ct)).ShouldBe("education");
            // Users, their completions (each with a stored screenshot), and balances equal to their ledgers.
            (await db.Set<AppCompletion>().CountAsync(Ct)).ShouldBeGreaterThan(0);
            (await db.Set<AppCompletion>().CountAsync(c => !db.Set<StoredFile>().Any(f => f.Id == c.ScreenshotFileId), Ct)).ShouldBe(0);
            Directory.GetFiles(Path.Combine(demo.DataDirectory, "files"), "*.png", SearchOption.AllDirectories).Length.ShouldBe(await db.Set<StoredFile>().CountAsync(Ct));
            var ledger = await db.Set<PointEntry>().GroupBy(e => e.UserId).Select(g => new { g.Key, Sum = g.Sum(e => e.Amount) }).ToDictionaryAsync(g => g.Key, g => g.Sum, Ct);
            (await db.Set<PointBalance>().ToListAsync(Ct)).ShouldAllBe(b => b.Balance == ledger.GetValueOrDefault(b.UserId));
        });
    }

    [Fact]
    public async Task Seeding_never_brings_back_an_app_an_admin_deleted()
    {
        await factory.DbAsync(db => db.Set<App>().Where(a => a.Name == "Test Beta")
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, DateTime.UtcNow), Ct));

        var inserted = await factory.ServiceAsync<Seeder, int>(s => s.SeedAsync(SeedProfiles.Test, Ct));

        inserted.ShouldBe(0);
        (await factory.DbAsync(db => db.Set<App>().CountAsync(a => a.Name == "Test Beta", Ct))).ShouldBe(0);
        await factory.DbAsync(db => db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(a => a.Name == "Test Beta")
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, (DateTime?)null), Ct));
    }

    [Fact]
    public async Task Every_field_of_an_app_and_its_category_is_written_and_read_back()
    {
        var token = Guid.NewGuid().ToString("N")[..10];
        var id = await factory.DbAsync(async db =>
        {
            var category = new AppCategory { Slug = $"c{token}", Name = "Café & Ünïcode" };
            var app = new App
            {
                Link = "https://play.google.com/store/apps/details?id=x.y",
                Points = App.MaxPoints,
                Description = "Line one\nline two — ✓",
                Category = category,
                IsActive = false,
            };
            app.Rename($"  Round Trip {token}  ");
            db.Set<App>().Add(app);
            await db.SaveChangesAsync(Ct);
            return app.Id;
        });

        var read = await factory.DbAsync(db => db.Set<App>().AsNoTracking().Include(a => a.Category).SingleAsync(a => a.Id == id, Ct));

        read.Name.ShouldBe($"Round Trip {token}");
        read.NormalizedName.ShouldBe($"ROUND TRIP {token.ToUpperInvariant()}");
        read.Link.ShouldBe("https://play.google.com/store/apps/details?id=x.y");
        read.Points.ShouldBe(App.MaxPoints);
        read.Description.ShouldBe("Line one\nline two — ✓");
        read.IsActive.ShouldBeFalse();
        read.Category!.Name.ShouldBe("Café & Ünïcode");
        read.Category.Slug.ShouldBe($"c{token}");
        read.CreatedAt.ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);
        read.CreatedAt.Kind.ShouldBe(DateTimeKind.Utc);
        read.UpdatedAt.ShouldBe(read.CreatedAt);
        read.DeletedAt.ShouldBeNull();
        read.Version.ShouldBe(1);
    }

    [Fact]
    public async Task An_update_moves_updated_at_and_the_version_but_not_created_at()
    {
        var id = await factory.AddAppAsync(points: 1, link: "https://example.test/app");
        var created = factory.Clock.GetUtcNow().UtcDateTime;
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        await factory.DbAsync(async db =>
        {
            var app = await db.Set<App>().SingleAsync(a => a.Id == id, Ct);
            app.Points = 42;
            app.CreatedAt = DateTime.UnixEpoch;
            await db.SaveChangesAsync(Ct);
        });

        var read = await factory.DbAsync(db => db.Set<App>().AsNoTracking().SingleAsync(a => a.Id == id, Ct));
        read.CreatedAt.ShouldBe(created);
        read.UpdatedAt.ShouldBe(created.AddMinutes(5));
        read.Version.ShouldBe(2);
    }

    [Fact]
    public async Task A_stale_write_fails_instead_of_overwriting_a_newer_one()
    {
        var id = await factory.AddAppAsync(points: 1, link: "https://example.test/app");
        await using var scopeA = factory.Services.CreateAsyncScope();
        await using var scopeB = factory.Services.CreateAsyncScope();
        var dbA = scopeA.ServiceProvider.GetRequiredService<AppDbContext>();
        var dbB = scopeB.ServiceProvider.GetRequiredService<AppDbContext>();
        var a = await dbA.Set<App>().SingleAsync(x => x.Id == id, Ct);
        var b = await dbB.Set<App>().SingleAsync(x => x.Id == id, Ct);

        a.Points = 10;
        await dbA.SaveChangesAsync(Ct);
        b.Points = 20;

        await Should.ThrowAsync<DbUpdateConcurrencyException>(() => dbB.SaveChangesAsync(Ct));
        (await factory.DbAsync(db => db.Set<App>().Where(x => x.Id == id).Select(x => x.Points).SingleAsync(Ct))).ShouldBe(10);
    }

    [Fact]
    public async Task Two_live_apps_cannot_share_a_name_but_a_deleted_one_frees_it()
    {
        var name = $"Unique {Guid.NewGuid():N}";
        await factory.DbAsync(async db =>
        {
            var first = new App { Link = "https://example.test/1", Points = 1 };
            first.Rename(name);
            db.Set<App>().Add(first);
            await db.SaveChangesAsync(Ct);
        });

        await Should.ThrowAsync<DbUpdateException>(() => factory.DbAsync(async db =>
        {
            var twin = new App { Link = "https://example.test/2", Points = 1 };
            twin.Rename(name.ToLowerInvariant());
            db.Set<App>().Add(twin);
            await db.SaveChangesAsync(Ct);
        }));

        await factory.DbAsync(db => db.Set<App>().Where(a => a.Name == name).ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, DateTime.UtcNow), Ct));
        await factory.DbAsync(async db =>
        {
            var again = new App { Link = "https://example.test/3", Points = 1 };
            again.Rename(name);
            db.Set<App>().Add(again);
            await db.SaveChangesAsync(Ct);
        });
        (await factory.DbAsync(db => db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).CountAsync(a => a.Name == name, Ct))).ShouldBe(2);
    }

    private Task<(int Categories, int Apps)> CountsAsync() => factory.DbAsync(async db =>
        (await db.Set<AppCategory>().CountAsync(Ct), await db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).CountAsync(Ct)));

    private static async Task<Dictionary<string, bool>> ColumnsAsync(DbConnection connection, DatabaseProvider provider, string table)
    {
        var sql = provider == DatabaseProvider.Postgres
            ? $"SELECT column_name, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}'"
            : $"SELECT name, \"notnull\" = 0 FROM pragma_table_info('{table}')";
        var columns = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            columns[reader.GetString(0)] = Convert.ToBoolean(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        }

        return columns;
    }

    private static async Task<List<string>> IndexesAsync(DbConnection connection, DatabaseProvider provider, string table)
    {
        var sql = provider == DatabaseProvider.Postgres
            ? $"SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = '{table}'"
            : $"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'";
        var indexes = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            indexes.Add(reader.GetString(0));
        }

        return indexes;
    }

    public sealed class OnSqlite(SqliteFactory factory) : PersistenceTests(factory), IClassFixture<SqliteFactory>
    {
        /// <summary>
        /// A write of the application that finds SQLite's write lock taken (here by a connection of the test's own, as
        /// another writer would) waits for it in SQLite's busy handler (<see cref="SqliteBusyTimeout"/>), a pooled
        /// connection too, and goes on once the lock is given back. The lock is held longer than the statement's
        /// command timeout (1 s): without the handler, SQLite would answer busy at once and Microsoft.Data.Sqlite's
        /// own retries would give up at that timeout ("database is locked"); the handler waits up to 10 s in SQLite.
        /// </summary>
        [Fact]
        public async Task A_write_that_finds_the_lock_taken_waits_for_it_in_sqlite_and_goes_on()
        {
            var connectionString = await factory.DbAsync(db => Task.FromResult(db.Database.GetConnectionString()!));
            for (var i = 0; i < 2; i++)
            {
                await using var holder = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
                await holder.OpenAsync(Ct);
                await using (var begin = holder.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE;";
                    await begin.ExecuteNonQueryAsync(Ct);
                }

                // On a thread of its own: SQLite waits for the lock inside the (synchronous) statement.
                var write = Task.Run(() => factory.DbAsync(db =>
                {
                    db.Database.SetCommandTimeout(TimeSpan.FromSeconds(1));
                    return TouchAsync(db);
                }), Ct);

                await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(2), Ct));
                write.IsCompleted.ShouldBeFalse(write.Exception?.ToString());
                await using (var commit = holder.CreateCommand())
                {
                    commit.CommandText = "COMMIT;";
                    await commit.ExecuteNonQueryAsync(Ct);
                }

                (await write.WaitAsync(TimeSpan.FromSeconds(30), Ct)).ShouldBe(1);
            }
        }

        // A write that changes nothing: the first migration's row, rewritten as it is.
        private static Task<int> TouchAsync(AppDbContext db) =>
            db.Database.ExecuteSqlRawAsync("UPDATE schema_migrations SET name = name WHERE version = (SELECT min(version) FROM schema_migrations);", Ct);
    }

    public sealed class OnPostgres(PostgresFactory factory) : PersistenceTests(factory), IClassFixture<PostgresFactory>
    {
        /// <summary>
        /// The contexts' pooled connections are not reset with DISCARD ALL between requests (it threw away the
        /// session's cached plans of the ledger's triggers every time), and prepare the statements they run often,
        /// unless the configured connection string says otherwise.
        /// </summary>
        [Fact]
        public async Task The_contexts_connections_are_not_reset_between_requests_and_prepare_frequent_statements_unless_configured_otherwise()
        {
            var used = new Npgsql.NpgsqlConnectionStringBuilder(await factory.DbAsync(db => Task.FromResult(db.Database.GetConnectionString()!)));
            used.NoResetOnClose.ShouldBeTrue();
            used.MaxAutoPrepare.ShouldBe(PersistenceExtensions.PreparedStatementsPerConnection);

            const string Configured = "Host=db;Username=aap;No Reset On Close=false;Max Auto Prepare=0";
            PersistenceExtensions.ContextConnectionString(Configured).ShouldBe(Configured);
            var resetOnly = new Npgsql.NpgsqlConnectionStringBuilder(PersistenceExtensions.ContextConnectionString("Host=db;Username=aap;noresetonclose=false"));
            resetOnly.NoResetOnClose.ShouldBeFalse();
            resetOnly.MaxAutoPrepare.ShouldBe(PersistenceExtensions.PreparedStatementsPerConnection);
            var prepareOnly = new Npgsql.NpgsqlConnectionStringBuilder(PersistenceExtensions.ContextConnectionString("Host=db;Username=aap;maxautoprepare=0"));
            prepareOnly.NoResetOnClose.ShouldBeTrue();
            prepareOnly.MaxAutoPrepare.ShouldBe(0);

            // A statement run again and again on a context's connection is prepared there (Npgsql: after five uses).
            var prepared = await factory.DbAsync(async db =>
            {
                await db.Database.OpenConnectionAsync(Ct);
                for (var i = 0; i < 6; i++)
                {
                    (await db.Database.SqlQueryRaw<long>("SELECT count(*) AS \"Value\" FROM schema_migrations").ToListAsync(Ct)).Single().ShouldBeGreaterThan(0);
                }

                return await db.Database.SqlQueryRaw<string>("SELECT statement AS \"Value\" FROM pg_prepared_statements").ToListAsync(Ct);
            });
            prepared.ShouldContain(statement => statement.Contains("FROM schema_migrations", StringComparison.Ordinal));
        }
    }
}

/// <summary>An empty database of its own, outside any running application, for migration tests.</summary>
internal sealed class FreshDatabase : IAsyncDisposable
{
    private readonly DatabaseOptions _options;
    private readonly string? _postgresName;
    private readonly string? _sqliteFolder;

    private FreshDatabase(DatabaseOptions options, string? postgresName, string? sqliteFolder)
    {
        _options = options;
        _postgresName = postgresName;
        _sqliteFolder = sqliteFolder;
    }

    public string ConnectionString => _options.ConnectionString;

    public static async Task<FreshDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            var name = $"aap_fresh_{Guid.NewGuid():N}";
            var connectionString = await PostgresServer.CreateDatabaseAsync(name);
            return new FreshDatabase(new DatabaseOptions { Provider = "Postgres", ConnectionString = connectionString }, name, null);
        }

        var folder = Directory.CreateTempSubdirectory("aap-fresh-").FullName;
        var sqlite = $"Data Source={Path.Combine(folder, "aap.db")};Default Timeout=30";
        return new FreshDatabase(new DatabaseOptions { Provider = "Sqlite", ConnectionString = sqlite }, null, folder);
    }

    public AppDbContext Context()
    {
        var builder = new DbContextOptionsBuilder<AppDbContext>();
        PersistenceExtensions.Configure(builder, _options, [new TimestampInterceptor(TimeProvider.System)]);
        return new AppDbContext(builder.Options);
    }

    /// <summary>Runs every migration script before <paramref name="version"/> on <paramref name="db"/>: the database as an older release left it.</summary>
    public async Task MigrateBeforeAsync(AppDbContext db, string version, CancellationToken cancellationToken)
    {
        foreach (var script in Scripts.Where(s => string.CompareOrdinal(s.Version, version) < 0))
        {
            await ExecuteAsync(db, script.Sql, cancellationToken);
        }
    }

    /// <summary>Runs the one migration script <paramref name="version"/> on <paramref name="db"/>.</summary>
    public Task MigrateAsync(AppDbContext db, string version, CancellationToken cancellationToken) =>
        ExecuteAsync(db, Scripts.Single(s => s.Version == version).Sql, cancellationToken);

    private IEnumerable<MigrationScript> Scripts =>
        MigrationScripts.For(_postgresName is null ? DatabaseProvider.Sqlite : DatabaseProvider.Postgres);

    private static async Task ExecuteAsync(AppDbContext db, string sql, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public DatabaseMigrator Migrator(AppDbContext db) =>
        new(db, Options.Create(_options), TimeProvider.System, [], NullLogger<DatabaseMigrator>.Instance, MigrationCatalog.Embedded);

    public async ValueTask DisposeAsync()
    {
        if (_postgresName is not null)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(_postgresName);
        }

        if (_sqliteFolder is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_sqliteFolder, recursive: true);
        }
    }
}
