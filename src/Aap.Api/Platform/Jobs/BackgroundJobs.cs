using System.Collections.Concurrent;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// Asks for background work after a request: the queued job runs soon on whichever node's scheduler takes it, with
/// its run recorded in <c>job_runs</c> like any other. The request never waits for it.
/// </summary>
internal interface IBackgroundJobs
{
    /// <summary>
    /// Wakes the queued job <paramref name="job"/> (registered with <see cref="JobRegistrations.AddQueuedJob{TJob}"/>)
    /// soon after: the wake-up is stored in the background within a fraction of a second, one for all the requests of
    /// that moment. A wake-up already waiting covers this one too, and a wake-up that cannot be stored is logged and
    /// left to the job's safety sweep: the caller's own work has succeeded by then and is not undone.
    /// </summary>
    Task EnqueueAsync(string job, CancellationToken cancellationToken);
}

/// <summary>
/// Stores a one-shot trigger for the job in the Quartz store (<c>TriggerJob</c>), so it survives a restart and any node
/// of a cluster may run it. Because the job is <c>[DisallowConcurrentExecution]</c>, a trigger that comes due while a run is in
/// progress waits (blocked) and fires once the run ends: work enqueued during a run is swept by the next one.
/// <para>
/// The request does not store it: <see cref="EnqueueAsync"/> marks the job wanted on this node, and this service's
/// loop stores one wake-up per wanted job after <see cref="Gathering"/>, however many requests asked in that time.
/// Storing one took the Quartz store's lock row and several queries; on every upload (each screenshot wakes the
/// thumbnail job) that was a write transaction beside the request's own, waiting on the one lock row on PostgreSQL
/// and on the one writer on SQLite. A wake-up still wanted when the node stops is stored on the way out (this service
/// stops before the scheduler: it is registered after it); one lost with a killed process is left to the job's
/// safety sweep, as a wake-up that cannot be stored always was.
/// </para>
/// </summary>
internal sealed partial class BackgroundJobs(ISchedulerFactory schedulers, IEnumerable<JobRegistration> registrations, ILogger<BackgroundJobs> logger)
    : BackgroundService, IBackgroundJobs
{
    /// <summary>How long the loop waits, once a job is wanted, for other requests that want it before it stores one wake-up.</summary>
    internal static readonly TimeSpan Gathering = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, bool> wanted = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim signal = new(0);

    public Task EnqueueAsync(string job, CancellationToken cancellationToken)
    {
        if (!registrations.Any(r => r.Name == job && r.Queued))
        {
            throw new ArgumentException($"'{job}' is not a queued job: register it with AddQueuedJob.", nameof(job));
        }

        if (wanted.TryAdd(job, true))
        {
            signal.Release();
        }

        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await signal.WaitAsync(stoppingToken);
                await Task.Delay(Gathering, stoppingToken);
                await WakeWantedAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The node stops: what was asked for until now is stored below, while the scheduler still runs.
        }

        await WakeWantedAsync(CancellationToken.None);
    }

    private async Task WakeWantedAsync(CancellationToken cancellationToken)
    {
        foreach (var job in wanted.Keys)
        {
            // Taken off first: a request that wants the job while it is being stored asks for the next wake-up.
            if (wanted.TryRemove(job, out _))
            {
                await WakeAsync(job, cancellationToken);
            }
        }
    }

    private async Task WakeAsync(string job, CancellationToken cancellationToken)
    {
        try
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            if (await IsWaitingAsync(scheduler, job, cancellationToken))
            {
                // A run that has not started yet will see this work: one wake-up is enough.
                return;
            }

            // The scheduler builds the one-shot trigger itself, on its own clock (a trigger built here would start at
            // this process's time, which a scheduler on another clock might see as far in the future).
            await scheduler.TriggerJob(JobsSetup.KeyOf(job), cancellationToken);
        }
        catch (Exception error) when (error is SchedulerException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogEnqueueFailed(error, job);
        }
    }

    /// <summary>
    /// True when a one-shot trigger of the job (a queued wake-up or a "run now") is about to fire: waiting to fire now,
    /// or blocked behind the run in progress. Its schedule's own trigger and a retry after a backoff do not count.
    /// </summary>
    private static async Task<bool> IsWaitingAsync(IScheduler scheduler, string job, CancellationToken cancellationToken)
    {
        foreach (var trigger in await scheduler.GetTriggersOfJob(JobsSetup.KeyOf(job), cancellationToken))
        {
            if (trigger.Key.Equals(JobsSetup.TriggerOf(job)))
            {
                continue;
            }

            // The retry of a failed run fires only after its backoff, whatever its state: new work must not wait for
            // it. A retry stored while its failed run is still finishing is even Blocked, like a wake-up behind a run.
            if (trigger.RetryAttempt > 0)
            {
                continue;
            }

            // Blocked: it fires as soon as the run in progress ends. Normal: it fires now.
            var state = await scheduler.GetTriggerState(trigger.Key, cancellationToken);
            if (state is TriggerState.Blocked or TriggerState.Normal)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not queue a run of job {Job}; its safety sweep will do the work")]
    private partial void LogEnqueueFailed(Exception error, string job);
}
