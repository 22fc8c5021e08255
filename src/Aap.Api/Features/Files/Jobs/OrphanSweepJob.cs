using Aap.Api.Platform.Jobs;

namespace Aap.Api.Features.Files.Jobs;

/// <summary>
/// <c>aap files sweep-orphans</c> on a schedule: removes stored objects that no file row names and that are older
/// than <c>Files:OrphanGraceHours</c> (what a node that died mid-upload leaves behind). An object that could not be
/// removed fails the run, so that it is retried and visible in the history.
/// </summary>
internal sealed class OrphanSweepJob(OrphanSweep sweep) : IScheduledJob
{
    public const string Name = "orphan-sweep";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var result = await sweep.RunAsync(dryRun: false, cancellationToken);
        if (result.Failed > 0)
        {
            throw new IOException($"{result.Failed} orphaned object(s) could not be removed (see the log); {result.Removed} were.");
        }

        return result.Removed;
    }
}
