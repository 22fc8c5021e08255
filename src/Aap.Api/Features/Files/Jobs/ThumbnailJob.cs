using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files.Jobs;

/// <summary>
/// The queued job <c>file-thumbnails</c>: a sweep over every image whose thumbnail is still pending, oldest first, in
/// batches. An upload only wakes it (<see cref="IBackgroundJobs"/>), and a sweep every 10 minutes catches any wake-up
/// that was lost, so no image waits for a particular trigger. The thumbnail is stored beside the original (same
/// store, key <c>…/name.thumb.jpg</c>). An image that cannot be read fails its own thumbnail (status failed and the
/// reason, on the file's row) and the sweep goes on with the others; the run then fails with a summary naming the
/// files, so it shows in the run history. A store or database error leaves the file pending for the next run.
/// </summary>
internal sealed partial class ThumbnailJob(
    AppDbContext db, IFileStore store, ThumbnailMaker maker, IOptions<ThumbnailOptions> options, ILogger<ThumbnailJob> logger) : IScheduledJob
{
    public const string Name = "file-thumbnails";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var ready = 0L;
        var failed = new List<string>();
        var retried = 0;
        var after = 0L;
        while (true)
        {
            // Keyset paging: a file left pending by a store error is not read again by this run.
            var batch = await db.Set<StoredFile>().AsNoTracking()
                .Where(f => f.ThumbnailStatus == ThumbnailStatus.Pending && f.Id > after)
                .OrderBy(f => f.Id).Take(options.Value.BatchSize)
                .Select(f => new { f.Id, f.Key }).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            after = batch[^1].Id;
            foreach (var file in batch)
            {
                try
                {
                    if (await MakeAsync(file.Id, file.Key, cancellationToken))
                    {
                        ready++;
                    }
                }
                catch (ThumbnailRefusedException refused)
                {
                    var reason = refused.Message.ReplaceLineEndings(" ");
                    reason = reason.Length > ThumbnailStatus.ErrorLength ? reason[..ThumbnailStatus.ErrorLength] : reason;
                    await db.Set<StoredFile>().Where(f => f.Id == file.Id && f.ThumbnailStatus == ThumbnailStatus.Pending)
                        .ExecuteUpdateAsync(s => s.SetProperty(f => f.ThumbnailStatus, ThumbnailStatus.Failed).SetProperty(f => f.ThumbnailError, reason), cancellationToken);
                    LogRefused(file.Id, reason);
                    failed.Add($"file {file.Id} ({reason})");
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogRetryLater(error, file.Id);
                    retried++;
                }
            }
        }

        if (failed.Count > 0 || retried > 0)
        {
            var parts = new List<string> { $"{ready} thumbnail(s) made" };
            if (failed.Count > 0)
            {
                parts.Add($"{failed.Count} failed: {string.Join("; ", failed)}");
            }

            if (retried > 0)
            {
                parts.Add($"{retried} left pending after a storage or database error (see the log)");
            }

            throw new InvalidOperationException(string.Join("; ", parts) + ".");
        }

        return ready;
    }

    /// <summary>
    /// Makes and stores one thumbnail; false when the file went away meanwhile (its thumbnail is removed again). The
    /// original is read where it is stored when the store can seek in it (a local file), else through a temporary
    /// file; the thumbnail (a few tens of KB) is made in memory and stored from there.
    /// </summary>
    private async Task<bool> MakeAsync(long id, string key, CancellationToken cancellationToken)
    {
        string? spool = null;
        try
        {
            var content = await store.OpenAsync(key, cancellationToken) ?? throw new ThumbnailRefusedException("The original's content is missing from the store.");
            await using var original = content.Content.CanSeek ? content.Content : await SpoolAsync(content.Content, spool = TemporaryPath(), cancellationToken);
            using var thumbnail = new MemoryStream();
            maker.Make(original, thumbnail, cancellationToken);
            var thumbnailKey = KeyOf(key);
            await store.DeleteAsync(thumbnailKey, cancellationToken); // a run that stopped after storing it, before recording it
            await store.PutAsync(thumbnailKey, thumbnail.GetBuffer().AsMemory(0, (int)thumbnail.Length), ThumbnailMaker.ContentType, cancellationToken);
            var recorded = await db.Set<StoredFile>().Where(f => f.Id == id && f.ThumbnailStatus == ThumbnailStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.ThumbnailStatus, ThumbnailStatus.Ready).SetProperty(f => f.ThumbnailKey, thumbnailKey)
                    .SetProperty(f => f.ThumbnailError, (string?)null), cancellationToken);
            if (recorded == 0)
            {
                // Discarded or deleted while it was being made: nothing may point to the thumbnail, so it goes too.
                await store.DeleteAsync(thumbnailKey, CancellationToken.None);
                return false;
            }

            return true;
        }
        finally
        {
            if (spool is not null)
            {
                File.Delete(spool);
            }
        }
    }

    private static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"aap-thumb-src-{Guid.NewGuid():N}");

    /// <summary>Copies a stream that cannot seek (an object store's download) to a temporary file, open for reading from its start.</summary>
    private static async Task<Stream> SpoolAsync(Stream download, string path, CancellationToken cancellationToken)
    {
        await using (download)
        {
            var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, useAsync: true);
            try
            {
                await download.CopyToAsync(spool, cancellationToken);
                spool.Position = 0;
                return spool;
            }
            catch
            {
                await spool.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>The thumbnail's key, beside the original's: <c>screenshots/2026/01/abc.png</c> → <c>screenshots/2026/01/abc.thumb.jpg</c>.</summary>
    internal static string KeyOf(string key) => Path.ChangeExtension(key, null) + ".thumb.jpg";

    [LoggerMessage(Level = LogLevel.Warning, Message = "No thumbnail for file {FileId}: {Reason}")]
    private partial void LogRefused(long fileId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Thumbnail of file {FileId} not made; it stays pending for the next run")]
    private partial void LogRetryLater(Exception error, long fileId);
}
