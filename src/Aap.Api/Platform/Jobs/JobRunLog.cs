using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Jobs;

/// <summary>Writes the run history (<c>job_runs</c>): the scheduler's listener and the command line both go through it.</summary>
internal sealed class JobRunLog(AppDbContext db, TimeProvider clock)
{
    public const int ErrorLength = 500;

    /// <summary>True while a run of <paramref name="job"/> is queued or running, on any node.</summary>
    public Task<bool> IsActiveAsync(string job, CancellationToken cancellationToken) =>
        db.Set<JobRun>().AnyAsync(r => r.Job == job && JobRunStatus.Active.Contains(r.Status), cancellationToken);

    public async Task<string> QueueAsync(string job, CancellationToken cancellationToken)
    {
        var run = new JobRun { Id = NewId(), Job = job, Status = JobRunStatus.Queued, Manual = true, QueuedAt = Now };
        db.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return run.Id;
    }

    /// <summary>Marks a run started: the queued row of a manual run, or a new row.</summary>
    public async Task StartAsync(string id, string job, string? occurrence, DateTime? scheduledAt, string? node, int attempt, bool manual, CancellationToken cancellationToken)
    {
        var now = Now;
        var updated = await db.Set<JobRun>().Where(r => r.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Status, JobRunStatus.Running)
            .SetProperty(r => r.Occurrence, occurrence)
            .SetProperty(r => r.ScheduledAt, scheduledAt)
            .SetProperty(r => r.Node, node)
            .SetProperty(r => r.Attempt, attempt)
            .SetProperty(r => r.StartedAt, now)
            .SetProperty(r => r.FinishedAt, (DateTime?)null)
            .SetProperty(r => r.Error, (string?)null), cancellationToken);
        if (updated == 0)
        {
            db.Add(new JobRun
            {
                Id = id, Job = job, Occurrence = occurrence, ScheduledAt = scheduledAt, Node = node, Status = JobRunStatus.Running, Manual = manual,
                Attempt = attempt, QueuedAt = now, StartedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }

    public Task FinishAsync(string id, string status, long? items, string? error, CancellationToken cancellationToken)
    {
        var now = Now;
        var summary = error is { Length: > ErrorLength } ? error[..ErrorLength] : error;
        return db.Set<JobRun>().Where(r => r.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Status, status)
            .SetProperty(r => r.Items, items)
            .SetProperty(r => r.Error, summary)
            .SetProperty(r => r.FinishedAt, now), cancellationToken);
    }

    /// <summary>
    /// A recovered occurrence (its node died mid-run) or a node's restart leaves the old rows running: they are
    /// closed as cancelled, so that they neither block "run now" nor look alive.
    /// </summary>
    public Task<int> AbandonAsync(string job, string exceptId, string reason, CancellationToken cancellationToken)
    {
        var now = Now;
        return db.Set<JobRun>().Where(r => r.Job == job && r.Id != exceptId && JobRunStatus.Active.Contains(r.Status))
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.Status, JobRunStatus.Cancelled).SetProperty(r => r.Error, reason).SetProperty(r => r.FinishedAt, now), cancellationToken);
    }

    public static string NewId() => Guid.CreateVersion7().ToString("N");

    private DateTime Now => clock.GetUtcNow().UtcDateTime;
}
