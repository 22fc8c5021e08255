using Aap.Api.Platform;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Imports;

/// <summary>
/// The daily job <c>import-retention</c>: removes from the file store the upload (when a node that stopped left it)
/// and the rejects CSV of every import that ended more than <c>Imports:RetentionDays</c> ago, and marks its row
/// (<see cref="DataImport.FilesExpiredAt"/>), so that the API and the page say the files were removed, and when,
/// instead of a bare 404. The row and its summary stay. A queued or running import is never touched, whatever its
/// age: only ended ones are selected, and the mark is written only while the import is still ended. An object that
/// could not be removed fails the run (retried the next day, visible in the history); its row is left unmarked.
/// </summary>
internal sealed partial class ImportRetentionJob(AppDbContext db, IFileStore store, IOptions<ImportsOptions> options, TimeProvider clock,
    ILogger<ImportRetentionJob> logger) : IScheduledJob
{
    public const string Name = "import-retention";

    private const int BatchSize = 200;

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        if (days == 0)
        {
            return 0; // kept forever
        }

        var set = db.Set<DataImport>();
        var cutoff = clock.GetUtcNow().UtcDateTime.AddDays(-days);
        var ended = new[] { ImportStates.Succeeded, ImportStates.Failed, ImportStates.Cancelled };
        var expired = 0L;
        var failed = new HashSet<Guid>();
        while (true)
        {
            var batch = await set.AsNoTracking()
                .Where(i => ended.Contains(i.State) && i.FinishedAt != null && i.FinishedAt < cutoff && i.FilesExpiredAt == null && !failed.Contains(i.Id))
                .OrderBy(i => i.FinishedAt).ThenBy(i => i.Id).Take(BatchSize)
                .Select(i => new { i.Id, i.FileKey, i.RejectsKey }).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var import in batch)
            {
                try
                {
                    await store.DeleteAsync(import.FileKey, cancellationToken);
                    if (import.RejectsKey is { } rejects)
                    {
                        await store.DeleteAsync(rejects, cancellationToken);
                    }
                }
                catch (StorageUnavailableException error)
                {
                    LogRemoveFailed(error, import.Id);
                    failed.Add(import.Id);
                    continue;
                }

                var now = clock.GetUtcNow().UtcDateTime;
                expired += await set.Where(i => i.Id == import.Id && ended.Contains(i.State) && i.FilesExpiredAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(i => i.FilesExpiredAt, now), cancellationToken);
            }
        }

        LogExpired(expired, days, failed.Count);
        if (failed.Count > 0)
        {
            throw new IOException($"The files of {failed.Count} import(s) could not be removed (see the log); {expired} import(s) had theirs removed.");
        }

        return expired;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Import retention: the files of {Count} import(s) ended more than {Days} days ago were removed; {Failed} failed")]
    private partial void LogExpired(long count, int days, int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The files of import {ImportId} could not be removed; retried at the next run")]
    private partial void LogRemoveFailed(Exception error, Guid importId);
}

/// <summary>How the API and the page say when an import's files were removed.</summary>
[FeatureSurface]
internal static class RetentionDays
{
    /// <summary>Whole days from the import's end to the removal of its files.</summary>
    public static int After(DateTime? finishedAt, DateTime removedAt) =>
        finishedAt is { } finished ? Math.Max(0, (int)Math.Floor((removedAt - finished).TotalDays)) : 0;
}
