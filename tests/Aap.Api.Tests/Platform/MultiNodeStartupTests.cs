using System.Net;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Persistence.Seeding;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Several nodes started at the same moment on one database, as <c>docker compose up --scale</c> or a rolling deploy
/// does: every start-up task (migrations, seeding, the bootstrap admin, storage) must survive the others running it too.
/// </summary>
public sealed class MultiNodeStartupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_nodes_started_together_on_one_PostgreSQL_database_all_start_with_one_admin_and_no_duplicate_seed_rows()
    {
        await using var first = new PostgresFactory();
        await first.CreateDatabaseAsync();
        await using var second = PostgresFactory.AnotherNodeOf(first);
        await using var third = PostgresFactory.AnotherNodeOf(first);

        await StartTogetherAndCheckAsync(first, second, third);
    }

    [Fact]
    public async Task Three_nodes_started_together_on_one_SQLite_file_all_start_with_one_admin_and_no_duplicate_seed_rows()
    {
        var folder = Directory.CreateTempSubdirectory("aap-shared-").FullName;
        var connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "aap.db"), Pooling = true, DefaultTimeout = 30 }.ToString();
        try
        {
            await using var first = new SqliteFactory();
            await using var second = new SqliteFactory();
            await using var third = new SqliteFactory();
            foreach (var node in new[] { first, second, third })
            {
                node.With("ConnectionStrings:Default", connectionString);
            }

            await StartTogetherAndCheckAsync(first, second, third);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task StartTogetherAndCheckAsync(params AapFactory[] nodes)
    {
        foreach (var node in nodes)
        {
            node.With("Bootstrap:Admin:UserName", "root").With("Bootstrap:Admin:Email", "root@example.test").With("Bootstrap:Admin:Password", Accounts.Password)
                .With("Database:SeedProfile", SeedProfiles.Demo);
        }

        // InitializeAsync starts the host synchronously: each node starts on a thread of its own, all at once.
        await Task.WhenAll(nodes.Select(node => Task.Run(async () => await node.InitializeAsync(), Ct)));

        foreach (var node in nodes)
        {
            var ready = await node.ReadyAsync();
            ready.Status.ShouldBe(HttpStatusCode.OK);
        }

        // Every node's scheduler starts (in the background, once its node has started): none is left waiting on a
        // lock another node took while they all started.
        foreach (var node in nodes)
        {
            (await node.SchedulerStartedAsync()).ShouldBe("started");
        }

        var admins = await nodes[0].DbAsync(db => db.Set<User>().AsNoTracking().Where(u => u.UserName == "root").Select(u => u.Role).ToListAsync(Ct));
        admins.ShouldBe([Roles.Admin]);
        (await nodes[1].LoginAsync(new TestAccount(0, "root", null, Accounts.Password))).AccessToken.ShouldNotBeEmpty();

        var duplicates = await nodes[0].DbAsync(async db => new
        {
            Categories = await db.Set<AppCategory>().GroupBy(c => c.Slug).CountAsync(g => g.Count() > 1, Ct),
            Apps = await db.Set<App>().IgnoreQueryFilters().GroupBy(a => a.NormalizedName).CountAsync(g => g.Count() > 1, Ct),
            Users = await db.Set<User>().GroupBy(u => u.NormalizedUserName).CountAsync(g => g.Count() > 1, Ct),
            Completions = await db.Set<AppCompletion>().GroupBy(c => new { c.UserId, c.AppId }).CountAsync(g => g.Count() > 1, Ct),
            Balances = await db.Set<PointBalance>().GroupBy(b => b.UserId).CountAsync(g => g.Count() > 1, Ct),
        });
        duplicates.ShouldBe(new { Categories = 0, Apps = 0, Users = 0, Completions = 0, Balances = 0 });

        // Every seed row is there: seeding once more finds nothing missing.
        (await nodes[2].ServiceAsync<Seeder, int>(seeder => seeder.SeedAsync(SeedProfiles.Demo, Ct))).ShouldBe(0);
        (await nodes[0].DbAsync(db => db.Set<App>().CountAsync(Ct))).ShouldBeGreaterThan(0);
        (await nodes[0].DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBeGreaterThan(0);
    }
}
