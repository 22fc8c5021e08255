using System.Net;
using System.Text.Json;
using Aap.Api.Features.Imports;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// The daily job <c>import-retention</c> with the factory's fake clock: the files of an import ended more than
/// <c>Imports:RetentionDays</c> ago are removed and its row marked (the API says when, the rejects answer 410); a
/// queued or running import keeps its upload however old, and so does the orphan sweep leave it.
/// </summary>
public abstract class ImportRetentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task An_ended_imports_files_go_after_the_retention_and_its_record_stays_while_live_imports_keep_theirs()
    {
        await using var factory = NewFactory();
        factory.With("Imports:RetentionDays", "30");
        await factory.InitializeAsync();
        using (var admin = await factory.ClientForAsync(await factory.CreateAdminAsync()))
        {
            foreach (var job in new[] { ImportRetentionJob.Name, ImportJob.Name, "orphan-sweep" })
            {
                using var pause = await admin.PostAsync($"/api/v1/admin/jobs/{job}/pause", null, Ct);
                pause.StatusCode.ShouldBe(HttpStatusCode.NoContent);
            }
        }

        // An import that ended, with rejects: run here by the job, as another node's run would.
        string ended;
        using (var admin = await factory.ClientForAsync(await factory.CreateAdminAsync()))
        {
            using var started = await admin.PostAsync("/api/v1/admin/imports",
                ImportApiTests.Form("name,score\nAda,10\n,20\n", "old.csv", ("table", "old"), ("required", "name")), Ct);
            ended = (await started.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!;
            var done = await admin.FinishedImportAsync(ended);
            done.GetProperty("state").GetString().ShouldBe("succeeded", done.ToString());
            done.GetProperty("has_rejects").GetBoolean().ShouldBeTrue();
            done.GetProperty("files_removed_at").ValueKind.ShouldBe(JsonValueKind.Null);
        }

        var endedRow = await RowAsync(factory, Guid.Parse(ended));
        var rejectsKey = endedRow.RejectsKey.ShouldNotBeNull();
        // A node that stopped after the commit leaves the upload behind: retention takes it too. The job deletes the
        // upload just after it records the end, so that delete is waited for before the upload is put back.
        await factory.UploadGoneAsync(endedRow.FileKey);
        await PutAsync(factory, endedRow.FileKey);

        // The job's run goes on to the next queued import after one ends: the live imports below are added only once
        // that run is over, so that it does not take the queued one as its own.
        await JobIdleAsync(factory, ImportJob.Name);

        // Two live imports as old as can be, one queued and one running: their uploads must stay.
        var queued = await LiveImportAsync(factory, ImportStates.Queued);
        var running = await LiveImportAsync(factory, ImportStates.Running);

        // Within the retention: nothing goes.
        factory.Clock.SetUtcNow(endedRow.FinishedAt!.Value.AddDays(29));
        (await RunJobAsync(factory, ImportRetentionJob.Name)).GetProperty("items").GetInt64().ShouldBe(0);
        (await ExistingAsync(factory, endedRow.FileKey, rejectsKey, queued.FileKey, running.FileKey)).Count.ShouldBe(4);

        // Past it (and past the orphan sweep's grace, as the clock goes, for every object): the ended import's files go.
        factory.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddDays(31));
        var run = await RunJobAsync(factory, ImportRetentionJob.Name);
        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        run.GetProperty("items").GetInt64().ShouldBe(1);
        (await ExistingAsync(factory, endedRow.FileKey, rejectsKey, queued.FileKey, running.FileKey)).ShouldBe([queued.FileKey, running.FileKey]);
        var expired = await RowAsync(factory, endedRow.Id);
        expired.FilesExpiredAt.ShouldNotBeNull().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime, TimeSpan.FromSeconds(5));
        (expired.State, expired.RowsLoaded, expired.Summary).ShouldBe((ImportStates.Succeeded, 1L, endedRow.Summary));
        (await RowAsync(factory, queued.Id)).FilesExpiredAt.ShouldBeNull();
        (await RowAsync(factory, running.Id)).FilesExpiredAt.ShouldBeNull();

        // The record says so, and the rejects say why they are gone.
        using (var admin = await factory.ClientForAsync(await factory.CreateAdminAsync()))
        {
            using var shown = await admin.GetAsync($"/api/v1/admin/imports/{ended}", Ct);
            var import = (await shown.JsonAsync()).GetProperty("data");
            import.GetProperty("state").GetString().ShouldBe("succeeded");
            import.GetProperty("summary").GetProperty("rows_loaded").GetInt64().ShouldBe(1);
            import.GetProperty("has_rejects").GetBoolean().ShouldBeFalse();
            import.GetProperty("files_removed_at").GetDateTime().ShouldBe(expired.FilesExpiredAt!.Value, TimeSpan.FromSeconds(1));
            using var rejects = await admin.GetAsync($"/api/v1/admin/imports/{ended}/rejects", Ct);
            var problem = await Problem.ReadAsync(rejects, HttpStatusCode.Gone, ImportAdminCodes.FilesExpired);
            problem.GetProperty("detail").GetString()!.ShouldContain("Imports:RetentionDays");
        }

        // The orphan sweep, past its grace, leaves the live imports' uploads (the imports' folder is no file category).
        var swept = await RunJobAsync(factory, "orphan-sweep");
        swept.GetProperty("status").GetString().ShouldBe("succeeded", swept.ToString());
        (await ExistingAsync(factory, queued.FileKey, running.FileKey)).ShouldBe([queued.FileKey, running.FileKey]);

        // A second run has nothing left to do.
        (await RunJobAsync(factory, ImportRetentionJob.Name)).GetProperty("items").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task Zero_days_keeps_the_files_forever_and_the_setting_has_bounds_and_no_file_category_may_take_the_imports_folder()
    {
        await using (var forever = NewFactory())
        {
            forever.With("Imports:RetentionDays", "0");
            await forever.InitializeAsync();
            var kept = await LiveImportAsync(forever, ImportStates.Succeeded);
            forever.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddYears(5));
            (await forever.ServiceAsync<ImportRetentionJob, long>(job => job.RunAsync(Ct))).ShouldBe(0);
            (await ExistingAsync(forever, kept.FileKey)).ShouldBe([kept.FileKey]);
        }

        await using (var negative = NewFactory())
        {
            negative.With("Imports:RetentionDays", "-1");
            (await Should.ThrowAsync<OptionsValidationException>(async () => await negative.InitializeAsync())).Message.ShouldContain("RetentionDays");
        }

        await using (var category = NewFactory())
        {
            category.With("Storage:Categories:imports:0", "pdf");
            (await Should.ThrowAsync<OptionsValidationException>(async () => await category.InitializeAsync())).Message.ShouldContain("'imports'");
        }
    }

    /// <summary>An import row in <paramref name="state"/>, created, started and (when ended) finished long ago, with its upload stored.</summary>
    private static async Task<DataImport> LiveImportAsync(AapFactory factory, string state)
    {
        var id = Guid.NewGuid();
        var longAgo = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var import = new DataImport
        {
            Id = id, CreatedBy = 1, CreatedAt = longAgo, FileName = $"{state}.csv", FileKey = $"imports/2020/01/{id:N}.upload", FileBytes = 8,
            TableName = state, Options = """{"table":"t"}""", State = state,
            StartedAt = state == ImportStates.Queued ? null : longAgo, FinishedAt = ImportStates.IsActive(state) ? null : longAgo,
        };
        await factory.DbAsync(async db =>
        {
            db.Add(import);
            return await db.SaveChangesAsync(Ct);
        });
        await PutAsync(factory, import.FileKey);
        return import;
    }

    private static Task<DataImport> RowAsync(AapFactory factory, Guid id) =>
        factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(i => i.Id == id, Ct));

    private static async Task PutAsync(AapFactory factory, string key)
    {
        var spool = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(spool, "a,b\n1,2\n", Ct);
            await factory.Services.GetRequiredService<IFileStore>().PutAsync(key, spool, "text/csv", Ct);
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>Which of <paramref name="keys"/> the store still has, in the order given.</summary>
    private static async Task<List<string>> ExistingAsync(AapFactory factory, params string[] keys)
    {
        var store = factory.Services.GetRequiredService<IFileStore>();
        var existing = new List<string>();
        foreach (var key in keys)
        {
            if (await store.OpenAsync(key, Ct) is { } stored)
            {
                await stored.Content.DisposeAsync();
                existing.Add(key);
            }
        }

        return existing;
    }

    /// <summary>Waits (up to 60 s) until <paramref name="job"/> has no run queued or under way on any node.</summary>
    private static async Task JobIdleAsync(AapFactory factory, string job)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await admin.GetAsync("/api/v1/admin/jobs", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var jobs = (await response.JsonAsync()).GetProperty("data");
            var found = jobs.EnumerateArray().Single(j => j.GetProperty("name").GetString() == job);
            if (found.GetProperty("current_run").ValueKind == JsonValueKind.Null)
            {
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the job {job} was still running: {found}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Runs a job through the admin API, signed in at the factory's clock, and waits for its run (after one under way).</summary>
    private static async Task<JsonElement> RunJobAsync(AapFactory factory, string job)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var run = await admin.PostAsync($"/api/v1/admin/jobs/{job}/run", null, Ct);
            if (run.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, Ct);
                continue;
            }

            run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            return await admin.FinishedRunAsync(job, (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!);
        }
    }

    public sealed class OnSqlite : ImportRetentionTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : ImportRetentionTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }

    public sealed class OnS3 : ImportRetentionTests
    {
        private protected override AapFactory NewFactory() => new S3Factory();
    }
}
