using Microsoft.Extensions.Options;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// Quartz's hosted service, with its stop bounded by <c>Jobs:ShutdownTimeoutSeconds</c>. When a firing fails for want
/// of the database, Quartz's scheduler thread hands the trigger back to the store, retrying until the database answers
/// or the store is shut down; it shuts the store down only once that thread has ended, and takes no shutdown token
/// there. A node told to stop (SIGTERM) while its database was down waited for the database, past the host's shutdown
/// timeout, until its orchestrator killed it. Past the bound the stop is given up and logged, and the node stops without
/// its scheduler: the trigger it held is freed as a stopped node's is (by another node after the check-in threshold, or
/// by this one when it starts again; docs/operations.md). Quartz's own threads are background threads
/// (<c>UseBackgroundThreads</c> in <see cref="JobsSetup"/>), so the process still exits.
/// </summary>
internal sealed partial class SchedulerHostedService(QuartzHostedService quartz, IOptions<JobsOptions> options, ILogger<SchedulerHostedService> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => quartz.StartingAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => quartz.StartAsync(cancellationToken);

    public Task StartedAsync(CancellationToken cancellationToken) => quartz.StartedAsync(cancellationToken);

    public Task StoppingAsync(CancellationToken cancellationToken) => quartz.StoppingAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stop = quartz.StopAsync(cancellationToken);
        var bound = TimeSpan.FromSeconds(options.Value.ShutdownTimeoutSeconds);
        try
        {
            await stop.WaitAsync(bound, cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Past the bound, or the host's own shutdown timeout came first (then Quartz's stop may itself have ended
            // cancelled): either way the stop is given up, not failed, so the host's stop goes on to the end.
            // The scheduler's thread goes on retrying until the process exits; nothing waits for it any more.
            _ = stop.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            LogGaveUp(logger, bound.TotalSeconds);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => quartz.StoppedAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The scheduler did not stop within {Seconds} s (Jobs:ShutdownTimeoutSeconds) or the host's shutdown timeout, most likely waiting for the database; the node stops without it, and what it held is recovered as a stopped node's is")]
    private static partial void LogGaveUp(ILogger logger, double seconds);
}
