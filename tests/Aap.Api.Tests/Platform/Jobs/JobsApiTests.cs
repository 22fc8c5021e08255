using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform.Jobs;

/// <summary><c>/api/v1/admin/jobs</c>: list, run now, history, pause and resume, through HTTP on both providers.</summary>
public abstract class JobsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task The_list_shows_every_job_with_its_schedule_and_next_run_and_the_node_reports_its_scheduler()
    {
        // A trigger that falls due while the list is read is shown due until the scheduler fires it (a moment later),
        // so "next run" is compared with the time the scheduler started, not with the time the answer arrives.
        var started = DateTime.UtcNow;
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var response = await admin.GetAsync("/api/v1/admin/jobs", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var jobs = (await response.JsonAsync()).GetProperty("data").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        jobs.Keys.ShouldBe(["csv-imports", "deleted-file-purge", "file-thumbnails", "idempotency-expiry", "import-retention", "isin-download", "job-history-trim", "orphan-sweep", "refresh-token-purge"], ignoreOrder: true);
        foreach (var job in jobs.Values)
        {
            job.GetProperty("description").GetString().ShouldNotBeNullOrWhiteSpace();
            job.GetProperty("time_zone").GetString().ShouldBe("UTC");
            job.GetProperty("paused").GetBoolean().ShouldBeFalse();
            job.GetProperty("next_run").GetDateTime().ShouldBeGreaterThan(started);
            job.GetProperty("last_run").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        }

        jobs["refresh-token-purge"].GetProperty("schedule").GetString().ShouldBe("0 10 3 * * ?");

        using var status = await factory.Client().GetAsync("/api/v1/status", Ct);
        (await status.JsonAsync()).GetProperty("data").GetProperty("runs_jobs").GetBoolean().ShouldBeTrue();
        (await factory.ReadyAsync()).Status.ShouldBe(HttpStatusCode.OK);
        (await factory.SchedulerStartedAsync()).ShouldBe("started");
    }

    [Fact]
    public async Task Run_now_purges_expired_and_revoked_refresh_tokens_and_records_the_count()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var user = await factory.RegisterAsync();
        await factory.LoginAsync(user);
        await factory.LoginAsync(user);
        await factory.LoginAsync(user);
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var longAgo = factory.Clock.GetUtcNow().UtcDateTime.AddDays(-30);
        var ids = await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == user.Id).OrderBy(t => t.Id).Select(t => t.Id).ToListAsync(Ct));
        ids.Count.ShouldBe(3);
        await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.Id == ids[0]).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, longAgo), Ct));
        await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.Id == ids[1]).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, longAgo), Ct));

        using var run = await admin.PostAsync("/api/v1/admin/jobs/refresh-token-purge/run", null, Ct);

        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var accepted = (await run.JsonAsync()).GetProperty("data");
        var id = accepted.GetProperty("run_id").GetString()!;
        accepted.GetProperty("status").GetString().ShouldBe("queued");
        run.Headers.Location!.ToString().ShouldBe($"/api/v1/admin/jobs/refresh-token-purge/runs/{id}");
        var finished = await admin.FinishedRunAsync("refresh-token-purge", id);
        finished.GetProperty("status").GetString().ShouldBe("succeeded", finished.ToString());
        finished.GetProperty("items").GetInt64().ShouldBe(2);
        finished.GetProperty("manual").GetBoolean().ShouldBeTrue();
        finished.GetProperty("node").GetString().ShouldNotBeNullOrEmpty();
        var left = await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == user.Id).Select(t => t.Id).ToListAsync(Ct));
        left.ShouldBe([ids[2]]);

        using var history = await admin.GetAsync("/api/v1/admin/jobs/refresh-token-purge/runs?size=5", Ct);
        var runs = (await history.JsonAsync()).GetProperty("data").EnumerateArray().ToList();
        runs.Select(r => r.GetProperty("id").GetString()).ShouldBe([id]);
        using var list = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        var listed = (await list.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "refresh-token-purge");
        listed.GetProperty("last_outcome").GetString().ShouldBe("succeeded");
        (await factory.DbAsync(db => db.Set<JobRun>().CountAsync(r => r.Job == "refresh-token-purge" && r.Items == 2, Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task Run_now_while_the_job_runs_is_a_409_and_works_again_once_it_finished()
    {
        await using var factory = NewFactory();
        var gate = factory.WithGatedJob();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var first = await admin.PostAsync($"/api/v1/admin/jobs/{GatedJob.Name}/run", null, Ct);
        first.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await first.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        using var second = await admin.PostAsync($"/api/v1/admin/jobs/{GatedJob.Name}/run", null, Ct);
        await Problem.ReadAsync(second, HttpStatusCode.Conflict, JobProblemCodes.AlreadyRunning);
        using var running = await admin.GetAsync($"/api/v1/admin/jobs/{GatedJob.Name}/runs/{id}", Ct);
        (await running.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("running");

        gate.Release.SetResult();
        (await admin.FinishedRunAsync(GatedJob.Name, id)).GetProperty("status").GetString().ShouldBe("succeeded");
        using var third = await admin.PostAsync($"/api/v1/admin/jobs/{GatedJob.Name}/run", null, Ct);
        third.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var thirdId = (await third.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        (await admin.FinishedRunAsync(GatedJob.Name, thirdId)).GetProperty("items").GetInt64().ShouldBe(1);
    }

    [Fact]
    public async Task Pause_removes_the_next_run_and_resume_brings_it_back()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var pause = await admin.PostAsync("/api/v1/admin/jobs/job-history-trim/pause", null, Ct);
        pause.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var paused = await JobAsync(admin, "job-history-trim");
        paused.GetProperty("paused").GetBoolean().ShouldBeTrue();
        paused.GetProperty("next_run").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);

        var resumedAt = DateTime.UtcNow;
        using var resume = await admin.PostAsync("/api/v1/admin/jobs/job-history-trim/resume", null, Ct);
        resume.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var resumed = await JobAsync(admin, "job-history-trim");
        resumed.GetProperty("paused").GetBoolean().ShouldBeFalse();
        resumed.GetProperty("next_run").GetDateTime().ShouldBeGreaterThan(resumedAt);
    }

    [Fact]
    public async Task Jobs_are_for_admins_and_an_unknown_job_is_a_404()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using (var list = await user.GetAsync("/api/v1/admin/jobs", Ct))
        {
            list.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using (var run = await user.PostAsync("/api/v1/admin/jobs/refresh-token-purge/run", null, Ct))
        {
            run.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using (var anonymous = await factory.Client().GetAsync("/api/v1/admin/jobs", Ct))
        {
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        foreach (var (method, path) in new[] { ("POST", "run"), ("GET", "runs"), ("POST", "pause"), ("POST", "resume") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/v1/admin/jobs/no-such-job/{path}");
            using var response = await admin.SendAsync(request, Ct);
            await Problem.ReadAsync(response, HttpStatusCode.NotFound, "not_found");
        }

        (await factory.DbAsync(db => db.Set<JobRun>().CountAsync(Ct))).ShouldBe(0);
    }

    [Fact]
    public async Task Idempotency_expiry_deletes_the_records_past_their_expiry_keeps_the_others_and_records_the_count()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var account = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(account);
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.DbAsync(async db =>
        {
            db.AddRange(
                Record(account.Id, "expired-long-ago", now.AddDays(-3)),
                Record(account.Id, "expired-just-now", now),
                Record(account.Id, "still-valid", now.AddMinutes(1)),
                Record(account.Id, "valid-for-a-day", now.AddDays(1)));
            await db.SaveChangesAsync(Ct);
        });

        var run = await RunNowAsync(admin, "idempotency-expiry");

        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        run.GetProperty("items").GetInt64().ShouldBe(2);
        var left = await factory.DbAsync(db => db.Set<IdempotencyRecord>().Where(r => r.UserId == account.Id).Select(r => r.IdempotencyKey).ToListAsync(Ct));
        left.ShouldBe(["still-valid", "valid-for-a-day"], ignoreOrder: true);
        (await factory.DbAsync(db => db.Set<JobRun>().SingleAsync(r => r.Job == "idempotency-expiry", Ct))).Items.ShouldBe(2);
    }

    [Fact]
    public async Task Job_history_trim_deletes_finished_runs_older_than_the_history_days_keeps_the_rest_and_records_the_count()
    {
        await using var factory = NewFactory();
        factory.With("Jobs:HistoryDays", "10");
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.DbAsync(async db =>
        {
            db.AddRange(
                Finished("refresh-token-purge", "old-succeeded", now.AddDays(-30), JobRunStatus.Succeeded),
                Finished("isin-download", "old-failed", now.AddDays(-10).AddSeconds(-1), JobRunStatus.Failed),
                Finished("refresh-token-purge", "recent", now.AddDays(-10).AddSeconds(1), JobRunStatus.Succeeded),
                // Never finished (its node died long ago and nothing closed it): not history yet, so not trimmed.
                new JobRun { Id = "old-unfinished", Job = "deleted-file-purge", Status = JobRunStatus.Cancelled, QueuedAt = now.AddDays(-40) });
            await db.SaveChangesAsync(Ct);
        });

        var run = await RunNowAsync(admin, "job-history-trim");

        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        run.GetProperty("items").GetInt64().ShouldBe(2);
        var left = await factory.DbAsync(db => db.Set<JobRun>().Select(r => r.Id).ToListAsync(Ct));
        left.ShouldBe(["recent", "old-unfinished", run.GetProperty("id").GetString()!], ignoreOrder: true);
    }

    [Fact]
    public async Task A_web_only_node_says_it_runs_no_jobs_and_reports_its_scheduler_as_disabled()
    {
        await using var factory = NewFactory();
        factory.With("Jobs:Enabled", "false");
        await factory.InitializeAsync();

        using var status = await factory.Client().GetAsync("/api/v1/status", Ct);
        status.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await status.JsonAsync()).GetProperty("data").GetProperty("runs_jobs").GetBoolean().ShouldBeFalse();
        var (code, ready) = await factory.ReadyAsync();
        code.ShouldBe(HttpStatusCode.OK);
        ready.GetProperty("checks").GetProperty("scheduler").GetProperty("description").GetString().ShouldBe("disabled");
        ready.GetProperty("checks").GetProperty("scheduler").GetProperty("status").GetString().ShouldBe("Healthy");
    }

    [Fact]
    public async Task The_list_shows_a_running_runs_progress_and_then_the_finished_runs_count()
    {
        await using var factory = NewFactory();
        var gate = factory.WithProgressJob();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var started = await admin.PostAsync($"/api/v1/admin/jobs/{ProgressJob.Name}/run", null, Ct);
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await started.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        var running = await JobAsync(admin, ProgressJob.Name);

        running.GetProperty("running").GetBoolean().ShouldBeTrue();
        var current = running.GetProperty("current_run");
        current.GetProperty("id").GetString().ShouldBe(id);
        current.GetProperty("status").GetString().ShouldBe("running");
        current.GetProperty("started_at").GetDateTime().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);
        current.GetProperty("node").GetString().ShouldNotBeNullOrEmpty();
        // 40 was written; 41, reported within the same second, was not (no write per item).
        current.GetProperty("items").GetInt64().ShouldBe(40);
        using (var run = await admin.GetAsync($"/api/v1/admin/jobs/{ProgressJob.Name}/runs/{id}", Ct))
        {
            (await run.JsonAsync()).GetProperty("data").GetProperty("items").GetInt64().ShouldBe(40);
        }

        gate.Release.SetResult();
        (await admin.FinishedRunAsync(ProgressJob.Name, id)).GetProperty("items").GetInt64().ShouldBe(42);
        var finished = await JobAsync(admin, ProgressJob.Name);
        finished.GetProperty("running").GetBoolean().ShouldBeFalse();
        finished.GetProperty("current_run").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        finished.GetProperty("last_outcome").GetString().ShouldBe("succeeded");
        finished.GetProperty("last_items").GetInt64().ShouldBe(42);
    }

    private static IdempotencyRecord Record(long userId, string key, DateTime expiresAt) => new()
    {
        UserId = userId, IdempotencyKey = key, Fingerprint = new string('0', 64), ResponseStatus = 200, ResponseBody = "{}",
        CreatedAt = expiresAt.AddDays(-1), ExpiresAt = expiresAt,
    };

    private static JobRun Finished(string job, string id, DateTime finishedAt, string status) => new()
    {
        Id = id, Job = job, Status = status, Items = 1, QueuedAt = finishedAt.AddMinutes(-1), StartedAt = finishedAt.AddMinutes(-1), FinishedAt = finishedAt,
    };

    private static async Task<System.Text.Json.JsonElement> RunNowAsync(HttpClient admin, string job)
    {
        using var run = await admin.PostAsync($"/api/v1/admin/jobs/{job}/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        return await admin.FinishedRunAsync(job, (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!);
    }

    private static async Task<System.Text.Json.JsonElement> JobAsync(HttpClient admin, string name)
    {
        using var response = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);
    }

    public sealed class OnSqlite : JobsApiTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : JobsApiTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }
}
