using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// What Quartz runs for every registered job: resolves the feature's <see cref="IScheduledJob"/> in a scope of its own
/// and hands it the run's cancellation token. Never two runs of one job at once, on any node of a cluster.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class QuartzJob<TJob>(TJob job) : IJob where TJob : class, IScheduledJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        context.Result = await job.RunAsync(cancellationToken);
    }
}
