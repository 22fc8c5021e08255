using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Isins.Jobs;

/// <summary>
/// The daily ISIN download (docs/isins.md): downloads <c>Jobs:Isin:SourceUrl</c> to a temporary file (a conditional
/// GET: a 304, or the same bytes as last time, loads nothing), validates every row and swaps the list in
/// (<see cref="IsinLoader"/>). Its item count is the number of ISINs the loaded file lists (0 when nothing changed);
/// invalid rows are logged and kept in <c>isin_downloads</c>, and too many of them fail the run. The outcome of every
/// run, good or bad, is written to <c>isin_downloads</c>, which every node reads, so that no node loads a file twice.
/// </summary>
internal sealed partial class IsinDownloadJob(
    AppDbContext db, IsinDownloader downloader, IsinLoader loader, TimeProvider clock, IOptions<IsinOptions> options, ILogger<IsinDownloadJob> logger) : IScheduledJob
{
    public const string Name = "isin-download";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var state = await db.Set<IsinDownload>().SingleOrDefaultAsync(d => d.SourceUrl == settings.SourceUrl, cancellationToken);
        if (state is null)
        {
            state = new IsinDownload { SourceUrl = settings.SourceUrl };
            db.Add(state);
        }

        var temp = Path.Combine(Path.GetTempPath(), $"aap-isins-{Guid.NewGuid():N}.download");
        try
        {
            await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81_920,
                FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            var downloaded = await downloader.DownloadAsync(state, file, cancellationToken);
            var now = clock.GetUtcNow().UtcDateTime;
            state.CheckedAt = now;
            if (downloaded.NotModified || (downloaded.Sha256 is not null && downloaded.Sha256 == state.Sha256))
            {
                LogUnchanged(settings.SourceUrl, downloaded.NotModified ? "304 Not Modified" : "the same SHA-256 as the file loaded last");
                state.Outcome = "unchanged";
                state.Error = null;
                await db.SaveChangesAsync(cancellationToken);
                return 0;
            }

            var rows = new IsinFile(file, settings.MaxExpandedBytes);
            IsinLoadResult loaded;
            try
            {
                loaded = await loader.LoadAsync(rows, now, cancellationToken);
            }
            finally
            {
                state.Rows = rows.Rows;
                state.InvalidRows = rows.InvalidRows;
                if (rows.InvalidRows > 0)
                {
                    LogInvalidRows(rows.InvalidRows, rows.Rows, string.Join("; ", rows.InvalidSamples));
                }
            }

            LogLoaded(loaded.Listed, rows.Format, downloaded.Bytes, loaded.Added, loaded.Removed, rows.InvalidRows);
            state.ETag = downloaded.ETag;
            state.LastModified = downloaded.LastModified;
            state.Sha256 = downloaded.Sha256;
            state.LoadedAt = now;
            state.Outcome = "loaded";
            state.Error = null;
            await db.SaveChangesAsync(cancellationToken);
            return loaded.Listed;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The validators of the last good load stay: the next run asks for the file again if it has not changed.
            state.CheckedAt = clock.GetUtcNow().UtcDateTime;
            state.Outcome = "failed";
            state.Error = Shorten(JobRunListener.Summary(error));
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
    }

    private static string Shorten(string text) => text.Length <= 500 ? text : text[..500];

    [LoggerMessage(Level = LogLevel.Information, Message = "ISIN list unchanged at {Source} ({Reason}); nothing loaded")]
    private partial void LogUnchanged(string source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ISIN file: {Invalid} of {Rows} rows invalid and skipped; first: {Samples}")]
    private partial void LogInvalidRows(long invalid, long rows, string samples);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "ISIN list loaded: {Listed} ISINs from a {Format} file of {Bytes} bytes; {Added} new, {Removed} removed, {Invalid} invalid rows skipped")]
    private partial void LogLoaded(long listed, string format, long bytes, long added, long removed, long invalid);
}
