using System.Net;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// A rolling upgrade: nodes of the current build ("old") and of a build that knows one more migration ("new") on one
/// database. Across an additive migration both serve reads and writes, and an old node may even restart; across a
/// migration whose header says it breaks older nodes, an old node that is running goes unready and one that starts
/// refuses to, naming the migration (docs/database.md#rolling-upgrades).
/// </summary>
public sealed class RollingUpgradeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // What a newer build adds: a nullable column the old build's model does not know, and a table it never reads.
    private static readonly MigrationScript Additive = new("9001", "nickname_and_badges", """
        -- 9001: a nullable nickname on users and a table of badges (additive: older nodes ignore both).
        ALTER TABLE users ADD nickname character varying(50) NULL;
        CREATE TABLE badges (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), name character varying(50) NOT NULL);
        """);

    private static readonly MigrationScript Breaking = new("9002", "drop_badges", """
        -- 9002: badges are gone.
        -- breaks-older-nodes: drops the badges table that builds up to 9001 read
        DROP TABLE badges;
        """);

    [Fact]
    public async Task An_old_and_a_new_node_on_one_PostgreSQL_database_both_serve_across_an_additive_migration()
    {
        await using var old = new PostgresFactory();
        await old.InitializeAsync();
        var before = await old.RegisterAsync();
        var appId = await old.AddAppAsync(points: 10);

        // The first node of the new build migrates (under the advisory lock) while the old node serves.
        await using var upgraded = NodeKnowing(old, Additive);
        await upgraded.InitializeAsync();
        (await AppliedVersionsAsync(upgraded)).ShouldContain(Additive.Version);

        // Writes and reads on either node, by accounts made on either node.
        var afterOnOld = await old.RegisterAsync();
        var afterOnNew = await upgraded.RegisterAsync();
        using (var client = await upgraded.ClientForAsync(before))
        using (var completed = await client.CompleteAsync(appId, Images.Screenshot()))
        {
            completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
        }

        using (var client = await old.ClientForAsync(afterOnNew))
        using (var completed = await client.CompleteAsync(appId, Images.Screenshot()))
        {
            completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
        }

        foreach (var (node, account) in new[] { (old, before), (upgraded, afterOnOld), (old, afterOnNew) })
        {
            using var client = await node.ClientForAsync(account);
            using var me = await client.GetAsync("/api/v1/me", Ct);
            me.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // An old node that restarts now (a crash, or the roll not reached it yet) starts, and is ready.
        await using var restartedOld = PostgresFactory.AnotherNodeOf(old);
        await restartedOld.InitializeAsync();
        (await restartedOld.ReadyAsync()).Status.ShouldBe(HttpStatusCode.OK);
        (await old.ReadyAsync()).Status.ShouldBe(HttpStatusCode.OK);
        using (var client = await restartedOld.ClientForAsync(before))
        {
            (await client.BalanceAsync()).ShouldBe(10);
        }

        await old.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task After_a_migration_that_breaks_older_nodes_a_running_old_node_goes_unready_and_a_starting_one_refuses_naming_it()
    {
        await using var old = new PostgresFactory();
        await old.InitializeAsync();
        await using var additive = NodeKnowing(old, Additive);
        await additive.InitializeAsync();
        (await old.ReadyAsync()).Status.ShouldBe(HttpStatusCode.OK);

        await using var breaking = NodeKnowing(old, Additive, Breaking);
        await breaking.InitializeAsync();

        var ready = await old.ReadyAsync();
        ready.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var description = ready.Body.GetProperty("checks").GetProperty("database").GetProperty("description").GetString() ?? "";
        description.ShouldContain("9002_drop_badges");
        description.ShouldContain("drops the badges table");
        (await breaking.ReadyAsync()).Status.ShouldBe(HttpStatusCode.OK);

        // A node of the build that knows 9001 but not 9002 is just as old.
        await using var starting = NodeKnowing(old, Additive);
        var refused = await Should.ThrowAsync<InvalidOperationException>(async () => await starting.InitializeAsync());
        refused.ToString().ShouldContain("9002_drop_badges");
        refused.ToString().ShouldContain("older build");
    }

    [Fact]
    public async Task On_SQLite_an_old_build_reopens_a_file_a_new_build_migrated_additively_but_not_past_a_breaking_migration()
    {
        var folder = Directory.CreateTempSubdirectory("aap-rolling-").FullName;
        var connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "aap.db"), Pooling = true, DefaultTimeout = 30 }.ToString();
        try
        {
            var account = await RunAsync(new SqliteFactory(), connectionString, async node => await node.RegisterAsync());
            await RunAsync(Knowing(new SqliteFactory(), DatabaseProvider.Sqlite, SqliteAdditive), connectionString, node => Task.FromResult(true));

            // The old build again, on the file the new one migrated: it starts and serves the account.
            var balance = await RunAsync(new SqliteFactory(), connectionString, async node =>
            {
                using var client = await node.ClientForAsync(account);
                return await client.BalanceAsync();
            });
            balance.ShouldBe(0);

            await RunAsync(Knowing(new SqliteFactory(), DatabaseProvider.Sqlite, SqliteAdditive, Breaking), connectionString, node => Task.FromResult(true));
            var refused = await Should.ThrowAsync<InvalidOperationException>(() => RunAsync(new SqliteFactory(), connectionString, node => Task.FromResult(true)));
            refused.ToString().ShouldContain("9002_drop_badges");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static readonly MigrationScript SqliteAdditive = new("9001", "nickname_and_badges", """
        -- 9001: a nullable nickname on users and a table of badges (additive: older nodes ignore both).
        ALTER TABLE users ADD nickname TEXT NULL;
        CREATE TABLE badges (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), name TEXT NOT NULL);
        """);

    private static PostgresFactory NodeKnowing(PostgresFactory first, params MigrationScript[] scripts) =>
        (PostgresFactory)Knowing(PostgresFactory.AnotherNodeOf(first), DatabaseProvider.Postgres, scripts);

    private static AapFactory Knowing(AapFactory node, DatabaseProvider provider, params MigrationScript[] scripts) =>
        node.WithServices(services => services.AddSingleton(scripts.Aggregate(MigrationCatalog.Embedded, (catalog, script) => catalog.With(provider, script))));

    // One process of a build on the shared SQLite file, stopped before the next one opens it.
    private static async Task<T> RunAsync<T>(AapFactory node, string connectionString, Func<AapFactory, Task<T>> work)
    {
        await using (node)
        {
            node.With("ConnectionStrings:Default", connectionString);
            await node.InitializeAsync();
            return await work(node);
        }
    }

    private static async Task<IReadOnlyList<string>> AppliedVersionsAsync(AapFactory node)
    {
        var status = await node.ServiceAsync<DatabaseMigrator, MigrationStatus>(m => m.GetStatusAsync(Ct));
        return status.Applied.Select(a => a.Version).ToList();
    }
}
