using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// What Quartz runs for every registered job: resolves the feature's <see cref="IScheduledJob"/> in a scope of its own
/// and hands it the run's cancellation token. Never two runs of one job at once, on any node of a cluster. The scope's
/// <see cref="JobProgress"/> is pointed at the run the listener recorded, so that the job's progress lands on it.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class QuartzJob<TJob>(TJob job, JobProgress progress, JobRunListener runs) : IJob where TJob : class, IScheduledJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (runs.RunOf(context.FireInstanceId) is { } run)
        {
            progress.Begin(run);
        }

        context.Result = await job.RunAsync(cancellationToken);
    }
}
