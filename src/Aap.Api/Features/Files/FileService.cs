using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>
/// Files' surface: validated uploads, files stored by other features, their removal, and the purge. The type of an
/// upload is decided by the file's leading bytes, which the declared content type and the extension must agree
/// with; the content is checked for markup a browser could run (in an image's compressed pixels, only for the long markers); nothing is kept (no object, no row) unless
/// every check passes. A file the framework kept in memory (up to <see cref="InMemoryBytes"/>) is checked and stored from
/// memory; a larger one is spooled to a temporary file while it is hashed and checked, so memory stays flat whatever
/// the size.
/// </summary>
[FeatureSurface]
internal sealed partial class FileService(
    AppDbContext db,
    IFileStore store,
    IOptions<StorageOptions> options,
    TimeProvider clock,
    IEnumerable<IFileReferences> references,
    IBackgroundJobs jobs,
    FilesMetrics metrics,
    ILogger<FileService> logger)
{
    public const string DefaultCategory = "uploads";

    /// <summary>
    /// Uploads up to this size are checked and stored from memory: the framework's multipart reader keeps a file of
    /// up to 64 KiB in memory (<c>FormOptions.MemoryBufferThreshold</c>), and a temporary file for it would only add a
    /// file created, written and removed per upload. Larger ones go through a spool file.
    /// </summary>
    internal const int InMemoryBytes = 64 * 1024;

    /// <summary>
    /// The whole "multipart request -> stored file" step of an upload route: a body that is not multipart/form-data is
    /// 415; the form's <c>file</c> field is stored under its <c>category</c> field (default <c>uploads</c>).
    /// </summary>
    public async Task<Result<FileResponse>> ReceiveAsync(HttpRequest request, long ownerId, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return new Failure(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType, "Send the file as multipart/form-data in a field named 'file'.");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var stored = await UploadAsync(ownerId, form.Files.GetFile("file"), form["category"], cancellationToken);
        return stored.Succeeded ? FileResponse.From(stored.Value) : stored.Failure;
    }

    /// <summary>Checks and stores an uploaded file for <paramref name="ownerId"/>; the failure names the field to blame (<c>file</c> or <c>category</c>).</summary>
    /// <param name="held">
    /// Stored as deleted until the caller's own write <see cref="KeepAsync">keeps</see> it in its transaction: if that
    /// write never commits (the database went away in between), the purge removes the file, object and row, instead
    /// of it staying behind as a file nobody sent on its own.
    /// </param>
    public async Task<Result<StoredFileInfo>> UploadAsync(long ownerId, IFormFile? upload, string? category, CancellationToken cancellationToken, bool held = false)
    {
        var uploaded = await TryUploadAsync(ownerId, upload, category, held, cancellationToken);
        if (uploaded.Succeeded)
        {
            metrics.Stored(uploaded.Value.Category, uploaded.Value.Size);
        }
        else
        {
            metrics.Refused(uploaded.Failure.Code);
        }

        return uploaded;
    }

    private async Task<Result<StoredFileInfo>> TryUploadAsync(long ownerId, IFormFile? upload, string? category, bool held, CancellationToken cancellationToken)
    {
        var storage = options.Value;
        category = string.IsNullOrWhiteSpace(category) ? DefaultCategory : category.Trim();
        if (!storage.Categories.TryGetValue(category, out var allowedNames))
        {
            return Rejected(400, ProblemCodes.ValidationFailed, $"Unknown category '{category}'; use one of {string.Join(", ", storage.Categories.Keys)}.", "category");
        }

        if (upload is null)
        {
            return Rejected(400, ProblemCodes.ValidationFailed, "Send the file as multipart/form-data in a field named 'file'.");
        }

        if (upload.Length > storage.MaxFileBytes)
        {
            return TooLarge(storage.MaxFileBytes);
        }

        if (upload.Length == 0)
        {
            return Rejected(400, ProblemCodes.ValidationFailed, "The file is empty.");
        }

        var name = SafeName(upload.FileName);
        var spool = upload.Length <= InMemoryBytes ? null : Path.Combine(Path.GetTempPath(), $"aap-upload-{Guid.NewGuid():N}");
        try
        {
            var spooled = await SpoolAsync(upload, spool, allowedNames, name, cancellationToken);
            if (!spooled.Succeeded)
            {
                LogRejected(ownerId, spooled.Failure.Detail);
                return spooled.Failure;
            }

            var (type, sha256, size, content) = spooled.Value;
            var stored = await PutAsync(ownerId, content, type.ContentType, type.Extensions[0], sha256, size, name, category, clock.GetUtcNow().UtcDateTime, cancellationToken, held);
            if (!held)
            {
                await QueueThumbnailAsync(stored, cancellationToken);
            }

            return stored;
        }
        finally
        {
            if (spool is not null)
            {
                File.Delete(spool);
            }
        }
    }

    /// <summary>
    /// Stores content that AAP made itself (generated demo data), unchecked: it never came from a client.
    /// <paramref name="storedAt"/> dates the storage key's folders (default now).
    /// </summary>
    public async Task<StoredFileInfo> StoreAsync(
        long ownerId, byte[] content, string contentType, string originalName, string category, DateTime? storedAt, CancellationToken cancellationToken)
    {
        var extension = FileTypes.All.FirstOrDefault(t => t.ContentType == contentType)?.Extensions[0] ?? Path.GetExtension(originalName);
        return await PutAsync(ownerId, SpoolContent.Of(content), contentType, extension, Convert.ToHexStringLower(SHA256.HashData(content)), content.Length,
            SafeName(originalName), category, storedAt ?? clock.GetUtcNow().UtcDateTime, cancellationToken);
    }

    /// <summary>
    /// Keeps a file uploaded <c>held</c>: call it inside the transaction of the write that refers to it, before that
    /// write's <c>SaveChangesAsync</c>, so that both commit or neither does; then <see cref="QueueThumbnailAsync"/> after
    /// the commit. A file this request uploaded is still tracked by its context: the keep is then written by that
    /// <c>SaveChangesAsync</c>, in the same round trip as the caller's rows; any other is updated at once.
    /// </summary>
    public async Task KeepAsync(long fileId, CancellationToken cancellationToken)
    {
        if (db.Set<StoredFile>().Local.FindEntry(fileId) is { } uploaded)
        {
            uploaded.Entity.DeletedAt = null;
            return;
        }

        await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(f => f.Id == fileId)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, (DateTime?)null), cancellationToken);
    }

    /// <summary>Queues the making of the file's thumbnail, if its type gets one.</summary>
    public async Task QueueThumbnailAsync(StoredFileInfo file, CancellationToken cancellationToken)
    {
        if (ThumbnailStatus.For(file.ContentType) is not null)
        {
            // The thumbnail is made after the request, by the queued job (which also sweeps anything it missed).
            await jobs.EnqueueAsync(Jobs.ThumbnailJob.Name, cancellationToken);
        }
    }

    /// <summary>Removes a file that was stored but turned out not to be wanted (its row and its content), at once.</summary>
    public async Task DiscardAsync(long fileId, CancellationToken cancellationToken)
    {
        var files = db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(f => f.Id == fileId);
        var keys = await files.Select(f => new { f.Key, f.ThumbnailKey }).SingleOrDefaultAsync(cancellationToken);
        if (keys is null)
        {
            return;
        }

        await files.ExecuteDeleteAsync(cancellationToken);
        await store.DeleteAsync(keys.Key, cancellationToken);
        if (keys.ThumbnailKey is not null)
        {
            await store.DeleteAsync(keys.ThumbnailKey, cancellationToken);
        }
    }

    /// <summary>
    /// The thumbnail state of each of the files (pending, ready or failed; absent for a file that gets none), for a
    /// page that shows thumbnails and needs to know which exist (<c>GET /api/v1/files/{id}/thumbnail</c> serves them).
    /// </summary>
    public async Task<IReadOnlyDictionary<long, string>> ThumbnailStatesAsync(IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken) =>
        await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking()
            .Where(f => fileIds.Contains(f.Id) && f.ThumbnailStatus != null)
            .ToDictionaryAsync(f => f.Id, f => f.ThumbnailStatus!, cancellationToken);

    /// <summary>The object first, then its row; a row that cannot be written takes the object with it.</summary>
    private async Task<StoredFileInfo> PutAsync(
        long ownerId, SpoolContent content, string contentType, string extension, string sha256, long size, string name, string category, DateTime storedAt,
        CancellationToken cancellationToken, bool held = false)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{category}/{storedAt:yyyy}/{storedAt:MM}/{Guid.NewGuid():N}{extension}");
        await (content.Path is { } path
            ? store.PutAsync(key, path, contentType, cancellationToken)
            : store.PutAsync(key, content.Bytes, contentType, cancellationToken));
        var file = new StoredFile
        {
            OwnerId = ownerId,
            Key = key,
            Provider = store.Provider.ToString(),
            Size = size,
            ContentType = contentType,
            Sha256 = sha256,
            OriginalName = name,
            Category = category,
            ThumbnailStatus = ThumbnailStatus.For(contentType),
            DeletedAt = held ? clock.GetUtcNow().UtcDateTime : null,
        };
        try
        {
            db.Set<StoredFile>().Add(file);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            // No row, no object: the upload leaves nothing behind.
            await store.DeleteAsync(key, CancellationToken.None);
            throw;
        }

        return StoredFileInfo.From(file);
    }

    /// <summary>
    /// Soft-deletes the file if the caller may (owner or admin) and nothing still needs it. A completion's proof is
    /// refused with what needs it: the proof goes when its completion goes, never before.
    /// </summary>
    public async Task<FileDeletion> DeleteAsync(long id, long callerId, bool isAdmin, CancellationToken cancellationToken)
    {
        var mine = db.Set<StoredFile>().Where(f => f.Id == id && (isAdmin || f.OwnerId == callerId));
        if (!await mine.AnyAsync(cancellationToken))
        {
            return FileDeletion.NotFound;
        }

        // A check, then the write: a completion made in between still holds the file, because purge asks again
        // and the database's foreign key refuses the row's removal (FindKeptAsync keeps it readable for admins).
        var usedBy = await references.FindAllAsync([id], cancellationToken);
        if (usedBy.Count > 0)
        {
            return new FileDeletion(Found: true, usedBy);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await mine.ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, now).SetProperty(f => f.UpdatedAt, now), cancellationToken);
        return new FileDeletion(Found: true, []);
    }

    /// <summary>
    /// Removes the content and the row of files deleted at least <paramref name="olderThan"/> ago. A file that
    /// something still needs is kept, and a file that cannot be removed (the store or the database refuses) is
    /// logged and skipped: one bad file never stops the others, and the next purge tries it again.
    /// </summary>
    public Task<FilePurge> PurgeAsync(TimeSpan olderThan, CancellationToken cancellationToken) => PurgeAsync(olderThan, null, cancellationToken);

    /// <inheritdoc cref="PurgeAsync(TimeSpan, CancellationToken)"/>
    /// <param name="olderThan">How long ago a file must have been deleted.</param>
    /// <param name="progress">Told the number of files purged so far after each batch (a job's progress).</param>
    /// <param name="cancellationToken">Stops the purge between two files.</param>
    public async Task<FilePurge> PurgeAsync(TimeSpan olderThan, Func<long, CancellationToken, ValueTask>? progress, CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - olderThan;
        var (purged, kept, failed) = (0, 0, 0);
        var after = 0L;
        while (true)
        {
            // Keyset paging: skipped files stay behind and are not read again by this run.
            var batch = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking()
                .Where(f => f.DeletedAt != null && f.DeletedAt <= cutoff && f.Id > after)
                .OrderBy(f => f.Id).Take(100).Select(f => new { f.Id, f.Key, f.ThumbnailKey }).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                LogPurged(purged, kept, failed);
                return new FilePurge(purged, kept, failed);
            }

            after = batch[^1].Id;
            var usedBy = (await references.FindAllAsync(batch.Select(f => f.Id).ToList(), cancellationToken)).ToLookup(r => r.FileId);
            foreach (var file in batch)
            {
                if (usedBy[file.Id].Any())
                {
                    LogKept(file.Id, usedBy[file.Id]);
                    kept++;
                    continue;
                }

                try
                {
                    await PurgeOneAsync(file.Id, file.Key, file.ThumbnailKey, cancellationToken);
                    purged++;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogPurgeFailed(exception, file.Id);
                    failed++;
                }
            }

            if (progress is not null)
            {
                await progress(purged, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The row goes first, inside a transaction that commits only once the object is gone: a foreign key that
    /// refuses the row leaves the object untouched, and a store that fails leaves the row for the next purge.
    /// </summary>
    private async Task PurgeOneAsync(long id, string key, string? thumbnailKey, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete])
            .Where(f => f.Id == id && f.DeletedAt != null).ExecuteDeleteAsync(cancellationToken);
        if (removed == 1)
        {
            await store.DeleteAsync(key, cancellationToken);
            if (thumbnailKey is not null)
            {
                await store.DeleteAsync(thumbnailKey, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the upload into memory (<paramref name="spool"/> null) or into the spool file, checking its type first and
    /// hashing and scanning it on the way.
    /// </summary>
    private async Task<Result<Spooled>> SpoolAsync(
        IFormFile upload, string? spool, string[] allowedNames, string name, CancellationToken cancellationToken)
    {
        await using var source = upload.OpenReadStream();
        var head = new byte[spool is null ? upload.Length : FileTypes.SniffLength];
        var headLength = await source.ReadAtLeastAsync(head, Math.Min(head.Length, FileTypes.SniffLength), throwOnEndOfStream: false, cancellationToken);
        var type = FileTypes.Sniff(head.AsSpan(0, Math.Min(headLength, FileTypes.SniffLength)));
        if (type is null || !allowedNames.Contains(type.Name))
        {
            return Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is not one of the accepted types ({string.Join(", ", allowedNames)}).");
        }

        var declared = upload.ContentType?.Split(';')[0].Trim();
        if (!string.IsNullOrEmpty(declared) && !string.Equals(declared, type.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is {type.ContentType} but was declared as {declared}.");
        }

        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension.Length > 0 && !type.Extensions.Contains(extension))
        {
            return Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is {type.ContentType} but the file name ends in {extension}.");
        }

        var scanner = new ActiveContentScanner(type);
        if (spool is null)
        {
            // The whole file, as the framework holds it in memory.
            headLength += await source.ReadAtLeastAsync(head.AsMemory(headLength), head.Length - headLength, throwOnEndOfStream: false, cancellationToken);
            var content = head.AsMemory(0, headLength);
            scanner.Scan(content.Span);
            return Scanned(scanner, new Spooled(type, Convert.ToHexStringLower(SHA256.HashData(content.Span)), headLength, SpoolContent.Of(content)));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        await using (var target = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            var buffer = new byte[81920];
            head.AsSpan(0, headLength).CopyTo(buffer);
            var read = headLength;
            do
            {
                var chunk = buffer.AsMemory(0, read);
                hash.AppendData(chunk.Span);
                scanner.Scan(chunk.Span);
                size += read;
                if (size > options.Value.MaxFileBytes)
                {
                    return TooLarge(options.Value.MaxFileBytes);
                }

                await target.WriteAsync(chunk, cancellationToken);
                read = await source.ReadAsync(buffer, cancellationToken);
            }
            while (read > 0);
        }

        return Scanned(scanner, new Spooled(type, Convert.ToHexStringLower(hash.GetHashAndReset()), size, SpoolContent.At(spool)));
    }

    private static Result<Spooled> Scanned(ActiveContentScanner scanner, Spooled spooled) =>
        scanner.Found is { } marker
            ? (Result<Spooled>)Rejected(415, ProblemCodes.UnsupportedMediaType, $"The file contains markup a browser could run ({marker}).")
            : spooled;

    /// <summary>An upload refused because of its file (or, given, another form field).</summary>
    private static Failure Rejected(int status, string code, string detail, string field = "file") => Failure.Of(status, code, detail, field);

    private static Failure TooLarge(long limit) =>
        Rejected(413, ProblemCodes.PayloadTooLarge, $"The file is larger than the limit of {limit} bytes.");

    /// <summary>The client's file name reduced to a harmless display name: no folders, no control characters, at most 255 characters.</summary>
    internal static string SafeName(string? raw)
    {
        var name = Path.GetFileName((raw ?? "").Replace('\\', '/'));
        name = new string(name.Where(c => !char.IsControl(c) && CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.Format).ToArray()).Trim().Trim('.');
        if (name.Length == 0)
        {
            return "file";
        }

        if (name.Length > StoredFile.OriginalNameMaxLength)
        {
            var extension = Path.GetExtension(name);
            extension = extension.Length <= 10 ? extension : "";
            name = name[..(StoredFile.OriginalNameMaxLength - extension.Length)] + extension;
        }

        return name.Normalize(NormalizationForm.FormC);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload by user {UserId} refused: {Reason}")]
    private partial void LogRejected(long userId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} deleted files; kept {Kept} still in use; {Failed} failed")]
    private partial void LogPurged(int count, int kept, int failed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purge kept deleted file {FileId}: still needed by {UsedBy}")]
    private partial void LogKept(long fileId, IEnumerable<FileReference> usedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purge could not remove deleted file {FileId}; it is tried again by the next purge")]
    private partial void LogPurgeFailed(Exception exception, long fileId);

    /// <summary>A checked upload: its type, hash, size and content.</summary>
    private sealed record Spooled(FileType Type, string Sha256, long Size, SpoolContent Content);

    /// <summary>Content to store: in a local file, or (<see cref="Path"/> null) in memory.</summary>
    private readonly record struct SpoolContent(string? Path, ReadOnlyMemory<byte> Bytes)
    {
        public static SpoolContent At(string path) => new(path, default);

        public static SpoolContent Of(ReadOnlyMemory<byte> bytes) => new(null, bytes);
    }
}
