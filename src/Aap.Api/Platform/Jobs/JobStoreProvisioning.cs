using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// Runs after the migrations, under the same lock on PostgreSQL: creating the scheduler makes Quartz create whatever
/// of its schema is missing (<c>ProvisionSchema</c>, which never alters or drops), then the registered jobs and their
/// triggers are brought in line with the code and the configuration. A trigger whose schedule did not change is left
/// as it is, so a deployment neither resets its next run nor replays it (quartznet#2347), and a pause survives.
/// </summary>
internal sealed partial class JobStoreProvisioning(
    ISchedulerFactory schedulers, IEnumerable<JobRegistration> registrations, IOptions<JobsOptions> options, AppDbContext db,
    ILogger<JobStoreProvisioning> logger)
    : IMigrationFollowUp
{
    /// <summary>The rows Quartz's database locks are taken on (its <c>TRIGGER_ACCESS</c> and <c>STATE_ACCESS</c>).</summary>
    internal static readonly string[] LockNames = ["TRIGGER_ACCESS", "STATE_ACCESS"];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await CreateLockRowsAsync(scheduler.SchedulerName, cancellationToken);
        var registered = registrations.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var stale in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(JobsSetup.Group), cancellationToken))
        {
            if (!registered.ContainsKey(stale.Name))
            {
                await scheduler.DeleteJob(stale, cancellationToken);
                LogRemoved(stale.Name);
            }
        }

        foreach (var registration in registrations)
        {
            await SyncAsync(scheduler, registration, cancellationToken);
        }
    }

    /// <summary>
    /// Quartz creates a lock's row the first time a node takes that lock. Nodes starting together then race to insert
    /// it: the loser's <c>SELECT ... FOR UPDATE</c> finds no row, its insert finds one, and it waits out a retry delay
    /// with its transaction open before trying again. Made here, once, under the migration lock, the rows are always
    /// there and a lock is only ever waited for in the database.
    /// </summary>
    private async Task CreateLockRowsAsync(string schedulerName, CancellationToken cancellationToken)
    {
        foreach (var lockName in LockNames)
        {
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO QRTZ_LOCKS (SCHED_NAME, LOCK_NAME) VALUES ({schedulerName}, {lockName}) ON CONFLICT DO NOTHING", cancellationToken);
        }
    }

    private async Task SyncAsync(IScheduler scheduler, JobRegistration registration, CancellationToken cancellationToken)
    {
        var job = JobBuilder.Create().OfType(typeof(QuartzJob<>).MakeGenericType(registration.JobType))
            .WithIdentity(JobsSetup.KeyOf(registration.Name))
            .WithDescription(registration.Description)
            .StoreDurably() // on-demand runs need the job stored on its own
            .RequestRecovery() // a node killed mid-run has the run taken over
            .Build();
        await scheduler.AddJob(job, new AddJobOptions { Replace = true }, cancellationToken);

        var cron = options.Value.Schedules.GetValueOrDefault(registration.Name) ?? registration.Cron;
        var zone = options.Value.Zone;
        var existing = await scheduler.GetTrigger(JobsSetup.TriggerOf(registration.Name), cancellationToken);
        if (existing is ICronTrigger current && current.CronExpressionString == cron && current.TimeZone.Id == zone.Id)
        {
            return;
        }

        // On the system clock, as Quartz computes a trigger's times after a misfire (not on the application's clock).
        var trigger = TriggerFor(registration, cron, zone, TimeProvider.System.GetUtcNow());
        if (existing is null)
        {
            // On SQLite this runs after the migration's lock is released: of nodes starting together that all found no
            // trigger, the store's own lock lets one create it and tells the others that it was kept.
            var scheduled = await scheduler.ScheduleTrigger(trigger, TriggerConflict.Keep, cancellationToken);
            if (scheduled.Outcome == ScheduleOutcome.Kept)
            {
                return;
            }
        }
        else
        {
            await scheduler.RescheduleJob(existing.Key, trigger, cancellationToken);
        }

        LogScheduled(registration.Name, cron, zone.Id);
    }

    /// <summary>
    /// The trigger of a recurring job: its cron in <paramref name="zone"/>. An occurrence missed while every node was
    /// down (later than <c>Jobs:MisfireThresholdSeconds</c>) runs once at the next start, then the schedule goes on.
    /// It starts at <paramref name="from"/>: its first run is the first time of the schedule after it.
    /// </summary>
    internal static ITrigger TriggerFor(JobRegistration registration, string cron, TimeZoneInfo zone, DateTimeOffset from) =>
        TriggerBuilder.Create()
            .WithIdentity(JobsSetup.TriggerOf(registration.Name))
            .ForJob(JobsSetup.KeyOf(registration.Name))
            .WithDescription(registration.Description)
            .StartAt(from)
            .WithCronSchedule(cron, schedule => schedule.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} scheduled: {Cron} ({TimeZone})")]
    private partial void LogScheduled(string job, string cron, string timeZone);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} is no longer registered: removed from the scheduler")]
    private partial void LogRemoved(string job);
}
