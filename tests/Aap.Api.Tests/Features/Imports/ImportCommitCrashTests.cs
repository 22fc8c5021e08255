using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Aap.Api.Features.Imports;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// A node that stops right after an import's data transaction has committed (held there by the job's test seam,
/// <see cref="ImportJobProbe"/>, so that nothing the job does after the COMMIT happens): the database already says
/// the import succeeded, with its summary and rejects, and the next run of <c>csv-imports</c> (another node's,
/// once this one is taken for dead) loads nothing a second time, even in <c>append</c> mode with a generated key.
/// </summary>
public abstract class ImportCommitCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task A_node_stopped_right_after_the_commit_leaves_a_succeeded_import_that_no_later_run_loads_again()
    {
        await using var factory = NewFactory();
        var frozen = new FrozenAfterCommit();
        factory.WithServices(services =>
        {
            services.RemoveAll<ImportJobProbe>();
            services.AddSingleton<ImportJobProbe>(frozen);
        });
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        const string csv = "name,score\nAda,10\n,20\nGrace,30\n";
        using var started = await admin.PostAsync("/api/v1/admin/imports",
            ImportApiTests.Form(csv, "crash.csv", ("table", "crash"), ("mode", "append"), ("required", "name")), Ct);
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = Guid.Parse((await started.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!);
        try
        {
            (await frozen.Reached.Task.WaitAsync(TimeSpan.FromSeconds(90), Ct)).ShouldBe(id);

            // What a node killed here leaves: the rows, and a row of imports that already says so.
            var row = await factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(i => i.Id == id, Ct));
            row.State.ShouldBe(ImportStates.Succeeded);
            (row.RowsRead, row.RowsLoaded, row.RowsRejected).ShouldBe((3L, 2L, 1L));
            row.FinishedAt.ShouldNotBeNull();
            row.Summary.ShouldNotBeNull();
            row.RejectsKey.ShouldNotBeNull();
            (await CountAsync(factory, "crash")).ShouldBe(2);

            // The next run finds nothing left running to take back, and loads nothing again.
            (await factory.ServiceAsync<ImportJob, long>(job => job.RunAsync(Ct))).ShouldBe(0);
            (await CountAsync(factory, "crash")).ShouldBe(2);
            using var shown = await admin.GetAsync($"/api/v1/admin/imports/{id}", Ct);
            var import = (await shown.JsonAsync()).GetProperty("data");
            import.GetProperty("state").GetString().ShouldBe("succeeded", import.ToString());
            import.GetProperty("summary").GetProperty("rows_loaded").GetInt64().ShouldBe(2);
            import.GetProperty("has_rejects").GetBoolean().ShouldBeTrue();
            using var rejects = await admin.GetAsync($"/api/v1/admin/imports/{id}/rejects", Ct);
            rejects.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await rejects.Content.ReadAsStringAsync(Ct)).ShouldContain(",20");
        }
        finally
        {
            frozen.Release.TrySetResult();
        }

        // Let go, the stopped run ends without writing anything more.
        var ended = await admin.FinishedImportAsync(id.ToString());
        ended.GetProperty("state").GetString().ShouldBe("succeeded");
        ended.GetProperty("error").ValueKind.ShouldBe(JsonValueKind.Null);
        (await CountAsync(factory, "crash")).ShouldBe(2);
    }

    [Fact]
    public async Task An_import_whose_row_was_taken_back_before_the_commit_writes_nothing()
    {
        await using var factory = NewFactory();
        var gate = new UploadGate();
        factory.WithServices(services => gate.Install(services));
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var started = await admin.PostAsync("/api/v1/admin/imports",
            ImportApiTests.Form("name,score\nAda,10\nGrace,30\n", "taken.csv", ("table", "taken"), ("mode", "append")), Ct);
        var id = Guid.Parse((await started.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!);
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(90), Ct);

        // As a run that took this node for dead would: the import is queued again while this node still reads it.
        await factory.DbAsync(db => db.Set<DataImport>().Where(i => i.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Queued), Ct));
        gate.Release.TrySetResult();

        // This node's run fails at its commit (its outcome cannot be recorded), so its rows are not committed; the
        // queued import then runs once, and its rows are there once.
        var ended = await admin.FinishedImportAsync(id.ToString());
        ended.GetProperty("state").GetString().ShouldBe("succeeded", ended.ToString());
        (await CountAsync(factory, "taken")).ShouldBe(2);
    }

    private static Task<long> CountAsync(AapFactory factory, string table) => factory.DbAsync(async db =>
    {
        await db.Database.OpenConnectionAsync(Ct);
        await using DbCommand command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = factory is PostgresFactory ? $"SELECT count(*) FROM imports.\"{table}\"" : $"SELECT count(*) FROM \"import_{table}\"";
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    });

    /// <summary>Holds the job right after the first committed import, until the test lets go.</summary>
    private sealed class FrozenAfterCommit : ImportJobProbe
    {
        public TaskCompletionSource<Guid> Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task CommittedAsync(Guid importId)
        {
            if (Reached.TrySetResult(importId))
            {
                await Release.Task.WaitAsync(TimeSpan.FromMinutes(3));
            }
        }
    }

    public sealed class OnSqlite : ImportCommitCrashTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : ImportCommitCrashTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }
}
