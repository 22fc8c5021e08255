using Aap.Api.Platform.Jobs;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files.Jobs;

/// <summary>
/// <c>aap files purge</c> on a schedule: removes the content and rows of files deleted more than
/// <c>Jobs:Maintenance:DeletedFileRetentionDays</c> ago. A file some feature still refers to is kept; a file whose
/// content could not be removed fails the run, so that it is retried and visible in the history. The files purged so
/// far are its progress, reported after each batch.
/// </summary>
internal sealed class PurgeDeletedFilesJob(FileService files, IOptions<JobsOptions> options, JobProgress progress) : IScheduledJob
{
    public const string Name = "deleted-file-purge";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var purge = await files.PurgeAsync(TimeSpan.FromDays(options.Value.Maintenance.DeletedFileRetentionDays), progress.ReportAsync, cancellationToken);
        if (purge.Failed > 0)
        {
            throw new IOException($"{purge.Failed} deleted file(s) could not be removed (see the log); {purge.Purged} were.");
        }

        return purge.Purged;
    }
}
