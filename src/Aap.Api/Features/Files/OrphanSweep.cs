using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>Files' own settings beside <c>Storage</c>. Section <c>Files</c>.</summary>
internal sealed class FilesOptions
{
    public const string SectionName = "Files";

    /// <summary>
    /// An object without a row is removed by <c>orphan-sweep</c> only once it is this many hours old, so that an
    /// upload in flight (its object stored, its row not yet committed) is never taken for an orphan.
    /// </summary>
    [Range(1, 8760)]
    public int OrphanGraceHours { get; set; } = 24;
}

/// <summary>What an orphan sweep did: objects listed, orphans found (removed unless a dry run), young ones left, and failures.</summary>
internal sealed record OrphanSweepResult(long Listed, long Orphans, long Removed, long TooYoung, long Failed);

/// <summary>
/// Removes stored objects that no file row names: what a node leaves behind when it dies between storing an
/// object and committing its row (an upload, or a thumbnail). Every object AAP writes goes through Files, under
/// <c>{category}/yyyy/MM/{uuid}{ext}</c> (and <c>.thumb.jpg</c> beside it), and each is named by a
/// <c>stored_files</c> row's key or thumbnail key, deleted rows included (the purge removes those with their
/// objects, after asking the features that refer to files). So "is this object still needed?" is answered by Files'
/// own table: a completion's screenshot is needed because its file row is, and that is the purge's question.
/// </summary>
internal sealed partial class OrphanSweep(
    AppDbContext db, IFileStore store, IOptions<StorageOptions> storage, IOptions<FilesOptions> options, TimeProvider clock, ILogger<OrphanSweep> logger)
{
    private const int BatchSize = 500;

    public TimeSpan Grace => TimeSpan.FromHours(options.Value.OrphanGraceHours);

    /// <summary>
    /// Lists the objects under each category's folder, a page at a time, and removes those older than the grace
    /// that no file row names (<paramref name="dryRun"/>: only counts them). Nothing outside the categories'
    /// folders, and nothing whose name AAP would not have made, is ever touched.
    /// </summary>
    public async Task<OrphanSweepResult> RunAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - Grace;
        var total = new Tally();
        foreach (var category in await CategoriesAsync(cancellationToken))
        {
            var batch = new List<string>(BatchSize);
            await foreach (var listed in store.ListAsync(category + "/", cancellationToken))
            {
                total.Listed++;
                if (!IsAapKey(category, listed.Key))
                {
                    continue;
                }

                if (listed.LastModified > cutoff)
                {
                    total.TooYoung++;
                    continue;
                }

                batch.Add(listed.Key);
                if (batch.Count == BatchSize)
                {
                    await SweepAsync(batch, dryRun, total, cancellationToken);
                    batch.Clear();
                }
            }

            await SweepAsync(batch, dryRun, total, cancellationToken);
        }

        LogSwept(total.Listed, total.Orphans, total.Removed, total.TooYoung, total.Failed, dryRun);
        return new OrphanSweepResult(total.Listed, total.Orphans, total.Removed, total.TooYoung, total.Failed);
    }

    /// <summary>The configured categories and any a file row still has (a category dropped from the settings keeps its objects' owner).</summary>
    private async Task<IReadOnlyList<string>> CategoriesAsync(CancellationToken cancellationToken)
    {
        var used = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking()
            .Select(f => f.Category).Distinct().ToListAsync(cancellationToken);
        return [.. storage.Value.Categories.Keys.Concat(used).Where(c => CategoryName().IsMatch(c)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>A key of the shape <see cref="FileService"/> and the thumbnail job make, in <paramref name="category"/>'s folder.</summary>
    internal static bool IsAapKey(string category, string key) =>
        key.StartsWith(category + "/", StringComparison.Ordinal) && GeneratedKey().IsMatch(key.AsSpan(category.Length + 1));

    private async Task SweepAsync(List<string> keys, bool dryRun, Tally total, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        // Asked after the listing: a row committed since the object was listed keeps it.
        var named = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking()
            .Where(f => keys.Contains(f.Key) || (f.ThumbnailKey != null && keys.Contains(f.ThumbnailKey)))
            .Select(f => new { f.Key, f.ThumbnailKey }).ToListAsync(cancellationToken);
        var needed = named.SelectMany(f => new[] { f.Key, f.ThumbnailKey }).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var key in keys.Where(k => !needed.Contains(k)))
        {
            total.Orphans++;
            if (dryRun)
            {
                LogFound(key);
                continue;
            }

            try
            {
                await store.DeleteAsync(key, cancellationToken);
                LogRemoved(key);
                total.Removed++;
            }
            catch (StorageUnavailableException exception)
            {
                LogRemoveFailed(exception, key);
                total.Failed++;
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,50}$")]
    private static partial Regex CategoryName();

    // yyyy/MM/ then 32 hex digits, an optional ".thumb" and an extension of the file's type.
    [GeneratedRegex(@"^\d{4}/\d{2}/[0-9a-f]{32}(\.thumb)?(\.[A-Za-z0-9]{1,10})?$")]
    private static partial Regex GeneratedKey();

    [LoggerMessage(Level = LogLevel.Information, Message = "Orphan sweep: {Listed} objects listed, {Orphans} without a row ({Removed} removed), {TooYoung} younger than the grace, {Failed} failed; dry run: {DryRun}")]
    private partial void LogSwept(long listed, long orphans, long removed, long tooYoung, long failed, bool dryRun);

    [LoggerMessage(Level = LogLevel.Information, Message = "Orphan sweep (dry run) found {Key} without a row")]
    private partial void LogFound(string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Orphan sweep removed {Key}: no file row names it")]
    private partial void LogRemoved(string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan sweep could not remove {Key}; the next sweep tries again")]
    private partial void LogRemoveFailed(Exception exception, string key);

    private sealed class Tally
    {
        public long Listed;
        public long Orphans;
        public long Removed;
        public long TooYoung;
        public long Failed;
    }
}
