using System.Net;
using System.Net.Http.Json;
using Aap.Api.Tests.Features.Isins;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using JobRunStatus = Aap.Api.Platform.Jobs.JobRunStatus;
using SqliteFactory = Aap.Api.Tests.Infrastructure.SqliteFactory;

namespace Aap.Api.Tests.Platform.Jobs;

/// <summary>
/// When scheduled jobs run: at their time, once; a run missed while no node was up runs once at the next start;
/// retries back off (on the factory's fake clock, which Quartz's loop follows); a run cut short by a shutdown is taken
/// over; two or three clustered nodes run each occurrence once, and a web-only node runs none. Daylight saving time is
/// checked on the triggers AAP builds.
/// </summary>
public sealed class ScheduleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_daily_job_runs_at_its_time_once_and_is_next_due_a_day_later()
    {
        // A time of day a little ahead, so that the node has started well before it.
        var due = DateTime.UtcNow.AddSeconds(15);
        due = new DateTime(due.Year, due.Month, due.Day, due.Hour, due.Minute, due.Second, DateTimeKind.Utc);
        await using var factory = new SqliteFactory();
        factory.WithJob<TickJob>(TickJob.Name, DailyAt(due)).WithServices(RealClock);
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        // (Not "next_run is due" first: on a loaded machine the start-up can take most of the 15 s, and the run be over.)
        var run = (await RunsAsync(factory, atLeast: 1)).ShouldHaveSingleItem();

        run.ScheduledAt.ShouldBe(due);
        run.StartedAt!.Value.ShouldBeGreaterThanOrEqualTo(due);
        run.Status.ShouldBe(JobRunStatus.Succeeded);
        run.Manual.ShouldBeFalse();
        run.Items.ShouldBe(1);
        (await JobAsync(admin, TickJob.Name)).GetProperty("next_run").GetDateTime().ShouldBe(due.AddDays(1));
    }

    [Fact]
    public async Task Occurrences_missed_while_the_node_was_down_run_once_at_the_next_start_not_once_each()
    {
        var folder = Directory.CreateTempSubdirectory("aap-jobs-");
        var database = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder.FullName, "aap.db"), Pooling = true, DefaultTimeout = 30 }.ToString();
        try
        {
            // Every second; late by more than a second counts as missed. The first node only creates the schedule.
            await using (var before = new SqliteFactory())
            {
                before.With("ConnectionStrings:Default", database).With("Jobs:Enabled", "false").With("Jobs:MisfireThresholdSeconds", "1")
                    .WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
                await before.InitializeAsync();
            }

            // Ten seconds of downtime, as the store sees it: the trigger's next run is moved ten seconds back (ten
            // occurrences due with no node up), instead of the test waiting them out.
            var missedFrom = DateTime.UtcNow.AddSeconds(-10);
            missedFrom = new DateTime(missedFrom.Ticks - (missedFrom.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
            await using (var store = new SqliteConnection(database))
            {
                await store.OpenAsync(Ct);
                await using var moveBack = store.CreateCommand();
                moveBack.CommandText = "UPDATE qrtz_triggers SET next_fire_time = $at WHERE trigger_name = $name";
                moveBack.Parameters.AddWithValue("$at", missedFrom.Ticks);
                moveBack.Parameters.AddWithValue("$name", TickJob.Name);
                (await moveBack.ExecuteNonQueryAsync(Ct)).ShouldBe(1);
            }

            await using var after = new SqliteFactory();
            after.With("ConnectionStrings:Default", database).With("Jobs:MisfireThresholdSeconds", "1")
                .WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
            var restart = DateTime.UtcNow;
            await after.InitializeAsync();

            var runs = await RunsAsync(after, atLeast: 3);
            // The missed occurrences make one run at the start, none is replayed, and then the schedule goes on.
            var times = string.Join(", ", runs.Select(r => r.ScheduledAt?.ToString("O")));
            runs.Where(r => r.ScheduledAt >= missedFrom && r.ScheduledAt < restart).ShouldHaveSingleItem(times);
            runs.ShouldAllBe(r => r.ScheduledAt >= missedFrom, times);
            runs.GroupBy(r => r.ScheduledAt).ShouldAllBe(g => g.Count() == 1, times);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_failing_run_is_retried_with_growing_delays_up_to_the_maximum_and_then_stays_failed()
    {
        await using var factory = new SqliteFactory();
        factory.With("Jobs:RetryAttempts", "2").With("Jobs:RetryDelaySeconds", "10").WithJob<FailingJob>(FailingJob.Name, "0 0 0 1 1 ?");
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var run = await admin.PostAsync($"/api/v1/admin/jobs/{FailingJob.Name}/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;

        (await AttemptAsync(factory, id, 0)).Status.ShouldBe(JobRunStatus.Failed);
        factory.Clock.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(300, Ct);
        (await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().SingleAsync(r => r.Id == id, Ct))).Attempt.ShouldBe(0, "the first retry waits 10 s");

        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        (await AttemptAsync(factory, id, 1)).Status.ShouldBe(JobRunStatus.Failed);
        factory.Clock.Advance(TimeSpan.FromSeconds(20)); // the second waits twice as long
        var last = await AttemptAsync(factory, id, 2);
        last.Status.ShouldBe(JobRunStatus.Failed);
        last.Error.ShouldBe("InvalidOperationException: The remote list was empty. Second line.");

        factory.Clock.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(500, Ct);
        var rows = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().Where(r => r.Job == FailingJob.Name).ToListAsync(Ct));
        rows.ShouldHaveSingleItem().Attempt.ShouldBe(2, "two retries and no more");
    }

    [Fact]
    public async Task A_wake_up_while_a_retry_waits_out_its_backoff_runs_when_the_current_run_ends_not_after_the_backoff()
    {
        await using var factory = new SqliteFactory();
        var gate = new JobGate();
        factory.WithServices(services =>
        {
            services.AddSingleton(gate);
            services.AddScoped<GatedJob>();
            services.AddScoped<QuartzJob<GatedJob>>();
            services.AddSingleton(new JobRegistration(GatedJob.Name, "A queued test job that waits for its signal.", "0 0 0 1 1 ?", typeof(GatedJob), Queued: true));
        });
        await factory.InitializeAsync();
        var jobs = factory.Services.GetRequiredService<IBackgroundJobs>();
        var scheduler = await factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(Ct);
        await jobs.EnqueueAsync(GatedJob.Name, Ct);
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // The retry of a failed run, stored while a run is still in progress (as Quartz stores one while the failed run
        // finishes): blocked behind that run, and due only after its five-minute backoff.
        var retry = (Quartz.Extensibility.IMutableTrigger)TriggerBuilder.Create().ForJob(JobsSetup.KeyOf(GatedJob.Name)).StartAt(factory.Clock.GetUtcNow().AddMinutes(5)).Build();
        retry.RetryAttempt = 1;
        await scheduler.ScheduleJob((ITrigger)retry, new ScheduleJobOptions(), Ct);
        (await scheduler.GetTriggerState(retry.Key, Ct)).ShouldBe(TriggerState.Blocked);

        // New work: its wake-up must not count the retry as one already waiting.
        await jobs.EnqueueAsync(GatedJob.Name, Ct);
        gate.Release.TrySetResult();

        var runs = await WaitAsync(factory, async db =>
        {
            var finished = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == GatedJob.Name && r.FinishedAt != null).ToListAsync(Ct);
            return finished.Count >= 2 ? finished : null;
        });
        runs.ShouldAllBe(r => r.Status == JobRunStatus.Succeeded && r.Attempt == 0);
        (await scheduler.GetTriggerState(retry.Key, Ct)).ShouldBe(TriggerState.Normal, "the retry still waits for its time");
    }

    [Fact]
    public async Task A_run_cancelled_by_a_node_shutting_down_is_recorded_so_and_taken_over_by_another_node()
    {
        await using var first = new PostgresFactory();
        var firstGate = first.WithGatedJob();
        first.WithServices(RealClock);
        await first.InitializeAsync();
        using var admin = await first.ClientForAsync(await first.CreateAdminAsync());
        using var run = await admin.PostAsync($"/api/v1/admin/jobs/{GatedJob.Name}/run", null, Ct);
        var id = (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        await firstGate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await using var second = PostgresFactory.AnotherNodeOf(first);
        var secondGate = second.WithGatedJob();
        second.WithServices(RealClock);
        await second.InitializeAsync();
        await first.DisposeLoggingAsync(); // the first node stops with its run in progress: the run is told to stop

        await secondGate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        secondGate.Release.SetResult();
        var rows = await WaitAsync(second, async db =>
        {
            var all = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == GatedJob.Name).ToListAsync(Ct);
            return all.Any(r => r.Status == JobRunStatus.Succeeded) ? all : null;
        });

        var secondNode = await second.ServiceAsync<ISchedulerFactory, string>(async f => (await f.GetScheduler(Ct)).SchedulerInstanceId);
        rows.ShouldContain(r => r.Status == JobRunStatus.Succeeded && r.Node == secondNode, rows.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        rows.ShouldNotContain(r => JobRunStatus.Active.Contains(r.Status));
    }

    [Fact]
    public async Task A_run_on_a_node_killed_mid_run_is_recovered_by_another_node_and_completes()
    {
        await using var source = await IsinSource.StartAsync();
        // Served from the second request on (Serve clears what ServeOnce queued, so it comes first).
        var isins = Enumerable.Range(1, 50).Select(i => IsinSource.MakeIsin("DE", i)).ToList();
        source.Serve(IsinSource.File(IsinSource.Zip(IsinSource.Csv("LEI,ISIN", isins.Select((isin, i) => $"{IsinSource.MakeLei(i)},{isin}")))));

        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first download starts and then hangs, half sent, until its client is gone; the next one gets the file.
        source.ServeOnce(async context =>
        {
            context.Response.ContentType = "application/zip";
            context.Response.ContentLength = 1_000_000;
            await context.Response.Body.WriteAsync(new byte[1000], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        await using var survivor = new PostgresFactory();
        await survivor.CreateDatabaseAsync();
        var cluster = new Dictionary<string, string>
        {
            ["Jobs:Isin:SourceUrl"] = source.Url.ToString(),
            ["Jobs:Cluster:CheckinIntervalSeconds"] = "1",
            ["Jobs:Cluster:CheckinMisfireThresholdSeconds"] = "3",
        };

        // The first node, a process of its own, takes the run and is killed while it downloads.
        var environment = cluster.ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["Database__Provider"] = "Postgres";
        environment["ConnectionStrings__Default"] = survivor.ConnectionString;
        environment["Auth__DevelopmentAdmin"] = "false";
        environment["Bootstrap__Admin__UserName"] = "root";
        environment["Bootstrap__Admin__Email"] = "root@example.test";
        environment["Bootstrap__Admin__Password"] = Accounts.Password;
        await using (var doomed = await Docs.DocServer.StartAsync(environment, Ct))
        {
            using var client = new HttpClient { BaseAddress = new Uri(doomed.Address) };
            using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { login = "root", password = Accounts.Password }, Ct);
            login.StatusCode.ShouldBe(HttpStatusCode.OK, await login.Content.ReadAsStringAsync(Ct));
            var token = (await login.JsonAsync()).GetProperty("data").GetProperty("access_token").GetString();
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var run = await client.PostAsync("/api/v1/admin/jobs/isin-download/run", null, Ct);
            run.StatusCode.ShouldBe(HttpStatusCode.Accepted, await run.Content.ReadAsStringAsync(Ct));
            try
            {
                await arrived.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The first node did not start the download within 60 s; it printed:\n{doomed.Output}");
            }

            await doomed.KillAsync();
        }

        foreach (var (key, value) in cluster)
        {
            survivor.With(key, value);
        }

        survivor.WithServices(RealClock);
        await survivor.InitializeAsync();

        var runs = await WaitAsync(survivor, async db =>
        {
            var all = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == "isin-download").ToListAsync(Ct);
            return all.Any(r => r.Status == JobRunStatus.Succeeded) ? all : null;
        });
        var node = await survivor.ServiceAsync<ISchedulerFactory, string>(async f => (await f.GetScheduler(Ct)).SchedulerInstanceId);
        var described = string.Join(" | ", runs.Select(r => $"{r.Status} on {r.Node}: {r.Error}"));
        runs.ShouldContain(r => r.Status == JobRunStatus.Succeeded && r.Node == node && r.Items == isins.Count, described);
        runs.ShouldNotContain(r => JobRunStatus.Active.Contains(r.Status), described);
        source.Requests.ShouldBe(2);
        var loaded = await survivor.DbAsync(db => db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM isins").SingleAsync(Ct));
        loaded.ShouldBe(isins.Count);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Several_nodes_on_one_PostgreSQL_database_run_each_occurrence_once(int count)
    {
        await using var first = new PostgresFactory();
        await first.CreateDatabaseAsync();
        var nodes = new List<AapFactory> { first };
        try
        {
            nodes.AddRange(Enumerable.Range(1, count - 1).Select(_ => PostgresFactory.AnotherNodeOf(first)));
            await RunEachOccurrenceOnceAsync(first, nodes);
        }
        finally
        {
            foreach (var node in nodes.Skip(1))
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task RunEachOccurrenceOnceAsync(PostgresFactory first, List<AapFactory> nodes)
    {
        foreach (var node in nodes)
        {
            // The real clock, so that the nodes see the same time; a run every second.
            node.WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
        }

        await Task.WhenAll(nodes.Select(node => Task.Run(async () => await node.InitializeAsync(), Ct)));
        // The members of one cluster, each under an id of its own (nodes sharing one cannot see each other fail); a
        // node's scheduler joins once its host has started, so the test waits for all of them to have checked in.
        var members = await WaitAsync(first, async db =>
        {
            var checkedIn = await db.Database.SqlQueryRaw<string>("SELECT instance_name AS \"Value\" FROM qrtz_scheduler_state").ToListAsync(Ct);
            return checkedIn.Distinct().Count() == nodes.Count ? checkedIn : null;
        });
        var joined = DateTime.UtcNow;
        var runs = await WaitAsync(first, async db =>
        {
            var finished = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == TickJob.Name && r.FinishedAt != null).ToListAsync(Ct);
            return finished.Count(r => r.ScheduledAt > joined) >= 6 ? finished : null;
        });

        var twice = runs.GroupBy(r => r.ScheduledAt).Where(g => g.Count() > 1).Select(g => $"{g.Key:O} on {string.Join(", ", g.Select(r => r.Node))}").ToList();
        twice.ShouldBeEmpty("an occurrence ran more than once");
        runs.ShouldAllBe(r => r.Status == JobRunStatus.Succeeded && r.Attempt == 0);
        runs.Select(r => r.ScheduledAt!.Value.Millisecond).ShouldAllBe(ms => ms == 0);
        runs.Select(r => r.Node).ShouldAllBe(node => members.Contains(node!));
    }

    [Fact]
    public async Task On_PostgreSQL_occurrences_missed_while_no_node_ran_jobs_run_once_at_the_next_start_not_once_each()
    {
        // A web-only node creates the schedule (every second; late by more than a second counts as missed) and
        // stays up: with it alone, no node runs jobs.
        await using var before = new PostgresFactory();
        before.With("Jobs:Enabled", "false").With("Jobs:MisfireThresholdSeconds", "1")
            .WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
        await before.InitializeAsync();

        // Ten seconds of downtime, as the store sees it: the trigger's next run moved ten seconds back.
        var missedFrom = DateTime.UtcNow.AddSeconds(-10);
        missedFrom = new DateTime(missedFrom.Ticks - (missedFrom.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var moved = await before.DbAsync(db => db.Database.ExecuteSqlAsync(
            $"UPDATE qrtz_triggers SET next_fire_time = {missedFrom.Ticks} WHERE trigger_name = {TickJob.Name}", Ct));
        moved.ShouldBe(1);

        await using var after = PostgresFactory.AnotherNodeOf(before);
        after.With("Jobs:MisfireThresholdSeconds", "1").WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
        var restart = DateTime.UtcNow;
        await after.InitializeAsync();

        var runs = await RunsAsync(after, atLeast: 3);
        var times = string.Join(", ", runs.Select(r => r.ScheduledAt?.ToString("O")));
        runs.Where(r => r.ScheduledAt >= missedFrom && r.ScheduledAt < restart).ShouldHaveSingleItem(times);
        runs.ShouldAllBe(r => r.ScheduledAt >= missedFrom, times);
        runs.GroupBy(r => r.ScheduledAt).ShouldAllBe(g => g.Count() == 1, times);
        var node = await after.ServiceAsync<ISchedulerFactory, string>(async f => (await f.GetScheduler(Ct)).SchedulerInstanceId);
        runs.ShouldAllBe(r => r.Node == node, times);
    }

    [Fact]
    public async Task A_web_only_node_beside_a_job_node_hands_run_now_to_it_and_runs_no_occurrence_itself()
    {
        await using var jobsNode = new PostgresFactory();
        jobsNode.WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
        await jobsNode.InitializeAsync();
        await using var webNode = PostgresFactory.AnotherNodeOf(jobsNode);
        webNode.With("Jobs:Enabled", "false").WithJob<TickJob>(TickJob.Name, "* * * * * ?").WithServices(RealClock);
        await webNode.InitializeAsync();
        var jobsId = await jobsNode.ServiceAsync<ISchedulerFactory, string>(async f => (await f.GetScheduler(Ct)).SchedulerInstanceId);
        var webId = await webNode.ServiceAsync<ISchedulerFactory, string>(async f => (await f.GetScheduler(Ct)).SchedulerInstanceId);
        webId.ShouldNotBe(jobsId);

        using (var status = await webNode.Client().GetAsync("/api/v1/status", Ct))
        {
            (await status.JsonAsync()).GetProperty("data").GetProperty("runs_jobs").GetBoolean().ShouldBeFalse();
        }

        var (ready, health) = await webNode.ReadyAsync();
        ready.ShouldBe(HttpStatusCode.OK);
        health.GetProperty("checks").GetProperty("scheduler").GetProperty("description").GetString().ShouldBe("disabled");

        using var admin = await webNode.ClientForAsync(await webNode.CreateAdminAsync());
        using var run = await admin.PostAsync("/api/v1/admin/jobs/refresh-token-purge/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted, await run.Content.ReadAsStringAsync(Ct));
        var id = (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        var finished = await admin.FinishedRunAsync("refresh-token-purge", id);
        finished.GetProperty("status").GetString().ShouldBe("succeeded", finished.ToString());
        finished.GetProperty("node").GetString().ShouldBe(jobsId);

        var ticks = await RunsAsync(jobsNode, atLeast: 4);
        ticks.ShouldAllBe(r => r.Node == jobsId, string.Join(", ", ticks.Select(r => r.Node)));
        (await jobsNode.DbAsync(db => db.Set<JobRun>().CountAsync(r => r.Node == webId, Ct))).ShouldBe(0);
        var members = await jobsNode.DbAsync(db =>
            db.Database.SqlQueryRaw<string>("SELECT instance_name AS \"Value\" FROM qrtz_scheduler_state").ToListAsync(Ct));
        members.ShouldBe([jobsId]);
    }

    /// <summary>
    /// Europe/Berlin skips 02:00-03:00 on 29 March 2026 and repeats it on 25 October 2026. A daily run at 02:30 must run
    /// once on each of those days, and an hourly one must neither fire in a loop nor lose an hour (quartznet#2475).
    /// </summary>
    [Fact]
    public void Daylight_saving_changes_neither_skip_nor_double_a_daily_run_and_an_hourly_run_keeps_its_count()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        ITrigger Daily(DateTimeOffset from) => JobStoreProvisioning.TriggerFor(new JobRegistration("daily", "Daily.", "0 30 2 * * ?", typeof(TickJob)), "0 30 2 * * ?", berlin, from);
        foreach (var day in new[] { new DateOnly(2026, 3, 29), new DateOnly(2026, 10, 25) })
        {
            var from = new DateTimeOffset(day.AddDays(-2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var fires = FireTimes(Daily, from, from.AddDays(5));
            var localDays = fires.Select(f => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(f, berlin).DateTime)).ToList();
            localDays.ShouldBe(Enumerable.Range(-2, 5).Select(day.AddDays).ToList(), $"fires: {string.Join(", ", fires.Select(f => f.ToString("O")))}");
        }

        ITrigger Hourly(DateTimeOffset from) => JobStoreProvisioning.TriggerFor(new JobRegistration("hourly", "Hourly.", "0 0 * * * ?", typeof(TickJob)), "0 0 * * * ?", berlin, from);
        // Local days of 23 and 25 hours: one run per real hour, strictly increasing.
        var spring = FireTimes(Hourly, new DateTimeOffset(2026, 3, 28, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 29, 22, 0, 0, TimeSpan.Zero));
        var autumn = FireTimes(Hourly, new DateTimeOffset(2026, 10, 24, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 10, 25, 23, 0, 0, TimeSpan.Zero));
        spring.Count.ShouldBe(23);
        autumn.Count.ShouldBe(25);
        foreach (var fires in new[] { spring, autumn })
        {
            fires.Zip(fires.Skip(1), (a, b) => b - a).ShouldAllBe(gap => gap == TimeSpan.FromHours(1));
        }
    }

    /// <summary>
    /// The system clock instead of the factory's fake one: a trigger computes its next time after a misfire on the
    /// system clock, so a test of missed occurrences or of several nodes runs on real time.
    /// </summary>
    private static void RealClock(IServiceCollection services) => services.AddSingleton(TimeProvider.System);

    private static string DailyAt(DateTime time) => FormattableString.Invariant($"{time.Second} {time.Minute} {time.Hour} * * ?");

    private static List<DateTimeOffset> FireTimes(Func<DateTimeOffset, ITrigger> build, DateTimeOffset from, DateTimeOffset to)
    {
        var trigger = build(from);
        var fires = new List<DateTimeOffset>();
        var next = trigger.GetFireTimeAfter(from.AddTicks(-1));
        while (next is { } at && at < to && fires.Count < 1000)
        {
            fires.Add(at);
            next = trigger.GetFireTimeAfter(at);
        }

        return fires;
    }

    private static Task<List<JobRun>> RunsAsync(AapFactory factory, int atLeast) => WaitAsync(factory, async db =>
    {
        var runs = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == TickJob.Name && r.FinishedAt != null).OrderBy(r => r.ScheduledAt).ToListAsync(Ct);
        return runs.Count >= atLeast ? runs : null;
    });

    private static Task<JobRun> AttemptAsync(AapFactory factory, string id, int attempt) => WaitAsync(factory, db =>
        db.Set<JobRun>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == id && r.Attempt == attempt && r.FinishedAt != null, Ct));

    /// <summary>Polls the database until <paramref name="probe"/> gives something (60 s at most).</summary>
    private static async Task<T> WaitAsync<T>(AapFactory factory, Func<Aap.Api.Platform.Persistence.AppDbContext, Task<T?>> probe) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (await factory.DbAsync(probe) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("What the test waited for did not happen within 60 s.");
            }

            await Task.Delay(50, Ct);
        }
    }

    private static async Task<System.Text.Json.JsonElement> JobAsync(HttpClient admin, string name)
    {
        using var response = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);
    }
}

/// <summary>A job that does nothing but be counted in the run history.</summary>
internal sealed class TickJob : IScheduledJob
{
    public const string Name = "test-tick";

    public Task<long> RunAsync(CancellationToken cancellationToken) => Task.FromResult(1L);
}
