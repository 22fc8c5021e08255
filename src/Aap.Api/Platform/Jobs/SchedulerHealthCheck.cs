using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// Part of <c>/health/ready</c>: the scheduler is started, or on standby, or disabled on this node
/// (<c>Jobs:Enabled=false</c>: healthy, the node serves web requests only). A scheduler that should run and has shut
/// down is unhealthy.
/// </summary>
internal sealed class SchedulerHealthCheck(ISchedulerFactory schedulers, IOptions<JobsOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return HealthCheckResult.Healthy("disabled");
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        return scheduler.Status switch
        {
            SchedulerStatus.Running => HealthCheckResult.Healthy("started"),
            SchedulerStatus.Created or SchedulerStatus.Standby => HealthCheckResult.Healthy("standby"),
            _ => HealthCheckResult.Unhealthy(scheduler.Status.ToString().ToLowerInvariant()),
        };
    }
}
