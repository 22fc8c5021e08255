using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace Aap.Api.Platform.Jobs;

internal sealed record JobResponse(
    string Name, string Description, string Schedule, string TimeZone, bool Paused, DateTime? NextRun,
    DateTime? LastRun, string? LastOutcome, bool Running, long? LastItems, JobCurrentRun? CurrentRun);

/// <summary>The run of a job in progress (queued or running): since when, on which node, and its items so far.</summary>
internal sealed record JobCurrentRun(string Id, string Status, DateTime QueuedAt, DateTime? StartedAt, string? Node, long? Items);

internal sealed record JobRunResponse(
    string Id, string Job, string Status, bool Manual, int Attempt, long? Items, string? Error, string? Node,
    DateTime? ScheduledAt, DateTime QueuedAt, DateTime? StartedAt, DateTime? FinishedAt);

internal static class JobProblemCodes
{
    public const string AlreadyRunning = "job_already_running";
}

/// <summary>What the admin routes and the command line do with jobs: list, history, run now, pause, resume.</summary>
internal sealed class JobsService(
    ISchedulerFactory schedulers, IEnumerable<JobRegistration> registrations, AppDbContext db, JobRunLog log,
    IOptions<JobsOptions> options, IServiceProvider services)
{
    public IReadOnlyList<JobRegistration> Registered { get; } = [.. registrations.OrderBy(r => r.Name, StringComparer.Ordinal)];

    public JobRegistration? Find(string name) => Registered.FirstOrDefault(r => r.Name == name);

    public async Task<IReadOnlyList<JobResponse>> ListAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var runs = db.Set<JobRun>().AsNoTracking();
        var last = await runs.Where(r => r.FinishedAt != null)
            .GroupBy(r => r.Job)
            .Select(g => g.OrderByDescending(r => r.FinishedAt).ThenByDescending(r => r.Id).Select(r => new { r.Job, r.FinishedAt, r.Status, r.Items }).First())
            .ToListAsync(cancellationToken);
        // Few rows (one job runs once at a time): the newest of each job is picked here.
        var active = (await runs.Where(r => JobRunStatus.Active.Contains(r.Status))
                .Select(r => new { r.Job, Run = new JobCurrentRun(r.Id, r.Status, r.QueuedAt, r.StartedAt, r.Node, r.Items) })
                .ToListAsync(cancellationToken))
            .GroupBy(r => r.Job, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Run).OrderByDescending(r => r.QueuedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal).First(),
                StringComparer.Ordinal);
        var list = new List<JobResponse>();
        foreach (var registration in Registered)
        {
            var trigger = await scheduler.GetTrigger(JobsSetup.TriggerOf(registration.Name), cancellationToken) as ICronTrigger;
            var state = trigger is null ? TriggerState.None : await scheduler.GetTriggerState(trigger.Key, cancellationToken);
            var previous = last.FirstOrDefault(l => l.Job == registration.Name);
            list.Add(new JobResponse(
                registration.Name,
                registration.Description,
                trigger?.CronExpressionString ?? Schedule(registration),
                trigger?.TimeZone.Id ?? options.Value.TimeZone,
                state == TriggerState.Paused,
                state == TriggerState.Paused ? null : trigger?.NextFireTimeUtc?.UtcDateTime,
                previous?.FinishedAt,
                previous?.Status,
                active.ContainsKey(registration.Name),
                previous?.Items,
                active.GetValueOrDefault(registration.Name)));
        }

        return list;
    }

    public async Task<Result<PagedEnvelope<JobRunResponse>>> RunsAsync(string name, PageQuery paging, CancellationToken cancellationToken)
    {
        if (Find(name) is null)
        {
            return Failure.NotFound($"The job '{name}'");
        }

        return await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == name)
            .OrderByDescending(r => r.QueuedAt).ThenByDescending(r => r.Id)
            .Select(RunProjection)
            .ToPageDataAsync(paging, cancellationToken);
    }

    /// <summary>The same runs, newest first, one keyset page at a time (on ix_job_runs_job_queued_at_id).</summary>
    public async Task<Result<KeysetEnvelope<JobRunResponse>>> RunsAsync(string name, KeysetRequest keyset, CancellationToken cancellationToken)
    {
        if (Find(name) is null)
        {
            return Failure.NotFound($"The job '{name}'");
        }

        return await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == name)
            .ToKeysetPageAsync(keyset, r => r.QueuedAt, r => r.Id, RunProjection, r => new KeysetPosition(r.QueuedAt, r.Id), cancellationToken);
    }

    private static readonly System.Linq.Expressions.Expression<Func<JobRun, JobRunResponse>> RunProjection =
        r => new JobRunResponse(r.Id, r.Job, r.Status, r.Manual, r.Attempt, r.Items, r.Error, r.Node, r.ScheduledAt, r.QueuedAt, r.StartedAt, r.FinishedAt);

    public async Task<Result<JobRunResponse>> RunAsync(string name, string id, CancellationToken cancellationToken)
    {
        var run = await db.Set<JobRun>().AsNoTracking().Where(r => r.Job == name && r.Id == id)
            .Select(r => new JobRunResponse(r.Id, r.Job, r.Status, r.Manual, r.Attempt, r.Items, r.Error, r.Node, r.ScheduledAt, r.QueuedAt, r.StartedAt, r.FinishedAt))
            .FirstOrDefaultAsync(cancellationToken);
        return run is null ? Failure.NotFound($"The run '{id}' of job '{name}'") : run;
    }

    /// <summary>Queues a run now, on whichever node's scheduler picks it up; refused while one is queued or running.</summary>
    public async Task<Result<string>> TriggerAsync(string name, CancellationToken cancellationToken)
    {
        if (Find(name) is null)
        {
            return Failure.NotFound($"The job '{name}'");
        }

        if (await log.IsActiveAsync(name, cancellationToken))
        {
            return AlreadyRunning(name);
        }

        var id = await log.QueueAsync(name, cancellationToken);
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.TriggerJob(JobsSetup.KeyOf(name), new JobDataMap { [JobRunListener.RunIdKey] = id }, cancellationToken);
        return id;
    }

    public async Task<Failure?> PauseAsync(string name, bool pause, CancellationToken cancellationToken)
    {
        if (Find(name) is null)
        {
            return Failure.NotFound($"The job '{name}'");
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (pause)
        {
            await scheduler.PauseTrigger(JobsSetup.TriggerOf(name), cancellationToken);
        }
        else
        {
            await scheduler.ResumeTrigger(JobsSetup.TriggerOf(name), cancellationToken);
        }

        return null;
    }

    /// <summary>Runs a job in this process, without the scheduler (the command line): recorded like any other run.</summary>
    public async Task<Result<JobRunResponse>> RunHereAsync(string name, string node, CancellationToken cancellationToken)
    {
        if (Find(name) is not { } registration)
        {
            return Failure.NotFound($"The job '{name}'");
        }

        if (await log.IsActiveAsync(name, cancellationToken))
        {
            return AlreadyRunning(name);
        }

        var id = JobRunLog.NewId();
        await log.StartAsync(id, name, null, null, node, 0, manual: true, cancellationToken);
        try
        {
            services.GetRequiredService<JobProgress>().Begin(id);
            var job = (IScheduledJob)services.GetRequiredService(registration.JobType);
            var items = await job.RunAsync(cancellationToken);
            await log.FinishAsync(id, JobRunStatus.Succeeded, items, null, CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await log.FinishAsync(id, JobRunStatus.Cancelled, null, "Cancelled.", CancellationToken.None);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            await log.FinishAsync(id, JobRunStatus.Failed, null, JobRunListener.Summary(error), CancellationToken.None);
        }

        return await RunAsync(name, id, CancellationToken.None);
    }

    private string Schedule(JobRegistration registration) => options.Value.Schedules.GetValueOrDefault(registration.Name) ?? registration.Cron;

    private static Failure AlreadyRunning(string name) =>
        new(StatusCodes.Status409Conflict, JobProblemCodes.AlreadyRunning, $"The job '{name}' is already queued or running; wait for it to finish.");
}
