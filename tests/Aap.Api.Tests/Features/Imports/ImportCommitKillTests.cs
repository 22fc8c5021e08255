using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Aap.Api.Features.Imports;
using Aap.Api.Tests.Docs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// A node, a process of its own on PostgreSQL and S3, killed (SIGKILL) at the moment it records the outcome of an
/// import whose rows are loaded: it waits there on a lock this test holds on the import's row. Its rows and its
/// outcome commit together or not at all, so it leaves neither; the next run takes the import back, loads it once,
/// and records it. (Were the outcome written after the rows' COMMIT, the rows would be there, the import still
/// "running", and the rerun would fail on the table it had created, or load an append a second time.)
/// </summary>
public sealed class ImportCommitKillTests
{
    private const int Rows = 100_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_killed_while_recording_a_loaded_imports_outcome_leaves_nothing_and_the_rerun_loads_it_once()
    {
        var bucket = $"aap-import-kill-{Guid.NewGuid():N}";
        await using var survivor = new PostgresFactory();
        foreach (var (key, value) in S3Factory.Settings(bucket))
        {
            survivor.With(key, value);
        }

        // This test's host runs no job: the node does, until it dies; then the test runs the job's next run itself.
        survivor.With("Jobs:Enabled", "false");
        await survivor.InitializeAsync();
        await survivor.EndStatementsOfVanishedClientsAsync(Ct);

        await using var node = await DocServer.StartAsync(survivor.ProcessNodeEnvironment(bucket), Ct);
        var admin = await survivor.CreateAdminAsync();
        using var http = await PostgresFactory.SignedInClientAsync(new Uri(node.Address), admin.UserName!, Ct);

        var csv = new StringBuilder("name,score\n");
        for (var i = 1; i <= Rows; i++)
        {
            csv.Append("row ").Append(i).Append(',').Append(i).Append('\n');
        }

        using var started = await http.PostAsync("/api/v1/admin/imports", ImportApiTests.Form(csv.ToString(), "killed.csv", ("table", "killed")), Ct);
        var startedBody = await started.JsonAsync();
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted, startedBody.ToString());
        var id = Guid.Parse(startedBody.GetProperty("data").GetProperty("id").GetString()!);

        // Once the node has claimed the import, hold its row: the node reads and loads on, then waits to record.
        var waiting = Stopwatch.StartNew();
        while ((await RowAsync(survivor, id)).State != ImportStates.Running)
        {
            waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90), $"the node never started the import:\n{node.Output}");
            await Task.Delay(20, Ct);
        }

        // Activity is watched from a connection of its own: within a transaction, pg_stat_activity is a frozen snapshot.
        await using var watch = new NpgsqlConnection(survivor.ConnectionString);
        await watch.OpenAsync(Ct);
        await using (var connection = new NpgsqlConnection(survivor.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await using (var hold = new NpgsqlCommand("SELECT state FROM imports WHERE id = @id FOR UPDATE", connection, transaction))
            {
                hold.Parameters.AddWithValue("id", id);
                ((string?)await hold.ExecuteScalarAsync(Ct)).ShouldBe(ImportStates.Running, "the import ended before the test could hold its row");
            }

            // The outcome's update (the one that writes the summary) waits on the row: the node dies there.
            waiting.Restart();
            await using (var recording = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%summary%'", watch))
            {
                while ((long)(await recording.ExecuteScalarAsync(Ct))! == 0)
                {
                    waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), $"the node never came to record the outcome:\n{node.Output}");
                    await Task.Delay(20, Ct);
                }
            }

            await node.KillAsync();

            // The dead node's statement is ended by the database before the lock goes.
            waiting.Restart();
            await using (var waiters = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", watch))
            {
                while ((long)(await waiters.ExecuteScalarAsync(Ct))! > 0)
                {
                    waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the killed node's statement was still waiting");
                    await Task.Delay(50, Ct);
                }
            }

            await transaction.RollbackAsync(Ct);
        }

        // Nothing of it committed: no table, and the import still "running", as a dead node leaves it.
        (await TableExistsAsync(survivor)).ShouldBeFalse();
        (await RowAsync(survivor, id)).State.ShouldBe(ImportStates.Running);

        // The next run takes it back and loads it, once.
        (await survivor.ServiceAsync<ImportJob, long>(job => job.RunAsync(Ct))).ShouldBe(1);
        var row = await RowAsync(survivor, id);
        (row.State, row.RowsRead, row.RowsLoaded).ShouldBe((ImportStates.Succeeded, (long)Rows, (long)Rows), row.Error);
        (await survivor.DbAsync(db => db.Database.SqlQueryRaw<long>("SELECT count(*) AS \"Value\" FROM imports.\"killed\"").SingleAsync(Ct))).ShouldBe(Rows);
        (await survivor.DbAsync(db => db.Database.SqlQueryRaw<long>("SELECT count(DISTINCT name) AS \"Value\" FROM imports.\"killed\"").SingleAsync(Ct))).ShouldBe(Rows);
    }

    private static Task<DataImport> RowAsync(AapFactory factory, Guid id) =>
        factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(i => i.Id == id, Ct));

    private static Task<bool> TableExistsAsync(AapFactory factory) => factory.DbAsync(db =>
        db.Database.SqlQueryRaw<bool>("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'imports' AND tablename = 'killed') AS \"Value\"").SingleAsync(Ct));
}
