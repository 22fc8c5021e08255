using System.Collections.Concurrent;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>Records every run the scheduler starts and ends in <c>job_runs</c>, whichever node runs it.</summary>
internal sealed partial class JobRunListener(IServiceScopeFactory scopes, Observability.JobMetrics metrics, ILogger<JobRunListener> logger) : IJobListener
{
    /// <summary>The job data key a manual run carries its queued row's id in.</summary>
    public const string RunIdKey = "aap.run";

    /// <summary>The run id of each firing in progress on this node, by Quartz's fire instance id.</summary>
    private readonly ConcurrentDictionary<string, string> _runs = new(StringComparer.Ordinal);

    public string Name => "aap-run-history";

    /// <summary>The id of the run recorded for a firing in progress on this node.</summary>
    public string? RunOf(string fireInstanceId) => _runs.GetValueOrDefault(fireInstanceId);

    public async ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var manual = context.MergedJobDataMap.TryGetString(RunIdKey, out var queued) && queued is { Length: > 0 };
        // A manual run keeps its queued row through its retries; each attempt of a scheduled occurrence is a row of its own.
        var id = manual ? queued! : JobRunLog.NewId();

        _runs[context.FireInstanceId] = id;
        await using var scope = scopes.CreateAsyncScope();
        var log = scope.ServiceProvider.GetRequiredService<JobRunLog>();
        if (context.Recovering)
        {
            await log.AbandonAsync(context.JobDetail.Key.Name, id, "The node running it stopped; the run was recovered by another node.", cancellationToken);
        }

        await log.StartAsync(id, context.JobDetail.Key.Name, context.FireInstanceId, context.ScheduledFireTimeUtc?.UtcDateTime, context.Scheduler.SchedulerInstanceId,
            context.RetryAttempt, manual, cancellationToken);
    }

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public async ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        if (!_runs.TryRemove(context.FireInstanceId, out var id))
        {
            return;
        }

        var cancelled = jobException is not null && context.CancellationToken.IsCancellationRequested;
        var status = jobException is null ? JobRunStatus.Succeeded : cancelled ? JobRunStatus.Cancelled : JobRunStatus.Failed;
        var items = context.Result is long count ? count : (long?)null;
        var error = jobException is null ? null : Summary(jobException);
        metrics.Ran(context.JobDetail.Key.Name, status, context.JobRunTime);
        if (jobException is not null && !cancelled)
        {
            LogRunFailed(jobException, context.JobDetail.Key.Name, context.RetryAttempt);
        }

        // The run's own token may be cancelled (shutdown): the outcome is still written.
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<JobRunLog>().FinishAsync(id, status, items, error, CancellationToken.None);
    }

    /// <summary>The innermost exception's type and message, on one line.</summary>
    internal static string Summary(Exception error)
    {
        var inner = error;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return $"{inner.GetType().Name}: {inner.Message}".ReplaceLineEndings(" ");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} failed (attempt {Attempt})")]
    private partial void LogRunFailed(Exception error, string job, int attempt);
}
