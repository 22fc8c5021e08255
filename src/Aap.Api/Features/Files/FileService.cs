using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>What a delete did: nothing (not found, or not the caller's), or refused because of <see cref="UsedBy"/>, or done.</summary>
internal sealed record FileDeletion(bool Found, IReadOnlyList<FileReference> UsedBy)
{
    public static readonly FileDeletion NotFound = new(false, []);
}

/// <summary>What a purge did: files removed, kept because something still needs them, and failed (logged; retried next time).</summary>
internal sealed record FilePurge(int Purged, int Kept, int Failed);

/// <summary>
/// Validated uploads: the type is decided by the file's leading bytes, which the declared content type and the
/// extension must agree with; the whole content is checked for markup a browser could run; nothing is kept
/// (no object, no row) unless every check passes. The content is spooled to a temporary file while it is
/// hashed and checked, so memory stays flat whatever the size.
/// </summary>
internal sealed partial class FileService(
    AppDbContext db,
    IFileStore store,
    IOptions<StorageOptions> options,
    SigningKeys keys,
    TimeProvider clock,
    IEnumerable<IFileReferences> references,
    ILogger<FileService> logger)
{
    public const string DefaultCategory = "uploads";

    public async Task<(StoredFile? File, Failure? Rejection)> UploadAsync(
        long ownerId, IFormFile? upload, string? category, CancellationToken cancellationToken)
    {
        var storage = options.Value;
        category = string.IsNullOrWhiteSpace(category) ? DefaultCategory : category.Trim();
        if (!storage.Categories.TryGetValue(category, out var allowedNames))
        {
            return (null, Rejected(400, ProblemCodes.ValidationFailed, $"Unknown category '{category}'; use one of {string.Join(", ", storage.Categories.Keys)}.", "category"));
        }

        if (upload is null)
        {
            return (null, Rejected(400, ProblemCodes.ValidationFailed, "Send the file as multipart/form-data in a field named 'file'."));
        }

        if (upload.Length > storage.MaxFileBytes)
        {
            return (null, TooLarge(storage.MaxFileBytes));
        }

        if (upload.Length == 0)
        {
            return (null, Rejected(400, ProblemCodes.ValidationFailed, "The file is empty."));
        }

        var name = SafeName(upload.FileName);
        var spool = Path.Combine(Path.GetTempPath(), $"aap-upload-{Guid.NewGuid():N}");
        try
        {
            var (type, sha256, size, rejection) = await SpoolAsync(upload, spool, allowedNames, name, cancellationToken);
            if (rejection is not null)
            {
                LogRejected(ownerId, rejection.Detail);
                return (null, rejection);
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var key = string.Create(CultureInfo.InvariantCulture, $"{category}/{now:yyyy}/{now:MM}/{Guid.NewGuid():N}{type!.Extensions[0]}");
            await store.PutAsync(key, spool, type.ContentType, cancellationToken);
            var file = new StoredFile
            {
                OwnerId = ownerId,
                Key = key,
                Provider = store.Provider.ToString(),
                Size = size,
                ContentType = type.ContentType,
                Sha256 = sha256,
                OriginalName = name,
                Category = category,
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

            return (file, null);
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>
    /// A file the caller may read: their own, or any file for an admin. An admin also reaches a deleted file that
    /// something still needs (a completion's proof), so that a review never loses its evidence.
    /// </summary>
    public async Task<StoredFile?> FindReadableAsync(long id, long callerId, bool isAdmin, CancellationToken cancellationToken) =>
        isAdmin
            ? await FindKeptAsync(id, cancellationToken)
            : await db.Set<StoredFile>().AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.OwnerId == callerId, cancellationToken);

    /// <summary>A file that is not deleted, or deleted but still needed: what a signed link or an admin may download.</summary>
    public async Task<StoredFile?> FindKeptAsync(long id, CancellationToken cancellationToken)
    {
        var file = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking().SingleOrDefaultAsync(f => f.Id == id, cancellationToken);
        return file is { DeletedAt: not null } && (await ReferencesAsync([id], cancellationToken)).Count == 0 ? null : file;
    }

    public Task<StoredObject?> OpenAsync(StoredFile file, CancellationToken cancellationToken) => store.OpenAsync(file.Key, cancellationToken);

    /// <summary>A download URL that works without a token until it expires: presigned on S3, signed by AAP on the local store.</summary>
    public async Task<(Uri Url, DateTime ExpiresAt)> LinkAsync(StoredFile file, Uri baseAddress, CancellationToken cancellationToken)
    {
        var expiresAt = clock.GetUtcNow().UtcDateTime.AddSeconds(options.Value.LinkSeconds);
        var presigned = await store.PresignAsync(file.Key, file.ContentType, file.OriginalName, expiresAt, cancellationToken);
        if (presigned is not null)
        {
            return (presigned, expiresAt);
        }

        var expires = new DateTimeOffset(expiresAt).ToUnixTimeSeconds();
        return (new Uri(baseAddress, $"/api/v1/files/{file.Id}/content?expires={expires}&signature={Signature(file.Id, expires)}"), expiresAt);
    }

    /// <summary>Checks a signed local link: the signature is ours and the link has not expired.</summary>
    public bool IsValidLink(long id, long expires, string? signature) =>
        signature is not null &&
        expires >= clock.GetUtcNow().ToUnixTimeSeconds() &&
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Signature(id, expires)), Encoding.ASCII.GetBytes(signature));

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
        var usedBy = await ReferencesAsync([id], cancellationToken);
        if (usedBy.Count > 0)
        {
            return new FileDeletion(Found: true, usedBy);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await mine.ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, now).SetProperty(f => f.UpdatedAt, now), cancellationToken);
        return new FileDeletion(Found: true, []);
    }

    /// <summary>Removes a file that was stored but turned out not to be wanted (its row and its content), at once.</summary>
    public async Task DiscardAsync(StoredFile file, CancellationToken cancellationToken)
    {
        await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(f => f.Id == file.Id).ExecuteDeleteAsync(cancellationToken);
        await store.DeleteAsync(file.Key, cancellationToken);
    }

    /// <summary>
    /// Removes the content and the row of files deleted at least <paramref name="olderThan"/> ago. A file that
    /// something still needs is kept, and a file that cannot be removed (the store or the database refuses) is
    /// logged and skipped: one bad file never stops the others, and the next purge tries it again.
    /// </summary>
    public async Task<FilePurge> PurgeAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - olderThan;
        var (purged, kept, failed) = (0, 0, 0);
        var after = 0L;
        while (true)
        {
            // Keyset paging: skipped files stay behind and are not read again by this run.
            var batch = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AsNoTracking()
                .Where(f => f.DeletedAt != null && f.DeletedAt <= cutoff && f.Id > after)
                .OrderBy(f => f.Id).Take(100).Select(f => new { f.Id, f.Key }).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                LogPurged(purged, kept, failed);
                return new FilePurge(purged, kept, failed);
            }

            after = batch[^1].Id;
            var usedBy = (await ReferencesAsync(batch.Select(f => f.Id).ToList(), cancellationToken)).ToLookup(r => r.FileId);
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
                    await PurgeOneAsync(file.Id, file.Key, cancellationToken);
                    purged++;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogPurgeFailed(exception, file.Id);
                    failed++;
                }
            }
        }
    }

    /// <summary>
    /// The row goes first, inside a transaction that commits only once the object is gone: a foreign key that
    /// refuses the row leaves the object untouched, and a store that fails leaves the row for the next purge.
    /// </summary>
    private async Task PurgeOneAsync(long id, string key, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Set<StoredFile>().IgnoreQueryFilters([QueryFilters.SoftDelete])
            .Where(f => f.Id == id && f.DeletedAt != null).ExecuteDeleteAsync(cancellationToken);
        if (removed == 1)
        {
            await store.DeleteAsync(key, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<List<FileReference>> ReferencesAsync(IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken)
    {
        var found = new List<FileReference>();
        foreach (var source in references)
        {
            found.AddRange(await source.FindAsync(fileIds, cancellationToken));
        }

        return found;
    }

    private async Task<(FileType? Type, string Sha256, long Size, Failure? Rejection)> SpoolAsync(
        IFormFile upload, string spool, string[] allowedNames, string name, CancellationToken cancellationToken)
    {
        await using var source = upload.OpenReadStream();
        var head = new byte[FileTypes.SniffLength];
        var headLength = await source.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        var type = FileTypes.Sniff(head.AsSpan(0, headLength));
        if (type is null || !allowedNames.Contains(type.Name))
        {
            return (null, "", 0, Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is not one of the accepted types ({string.Join(", ", allowedNames)})."));
        }

        var declared = upload.ContentType?.Split(';')[0].Trim();
        if (!string.IsNullOrEmpty(declared) && !string.Equals(declared, type.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return (null, "", 0, Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is {type.ContentType} but was declared as {declared}."));
        }

        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension.Length > 0 && !type.Extensions.Contains(extension))
        {
            return (null, "", 0, Rejected(415, ProblemCodes.UnsupportedMediaType,
                $"The content is {type.ContentType} but the file name ends in {extension}."));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var scanner = new ActiveContentScanner();
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
                    return (null, "", 0, TooLarge(options.Value.MaxFileBytes));
                }

                await target.WriteAsync(chunk, cancellationToken);
                read = await source.ReadAsync(buffer, cancellationToken);
            }
            while (read > 0);
        }

        return scanner.Found is { } marker
            ? (null, "", 0, Rejected(415, ProblemCodes.UnsupportedMediaType, $"The file contains markup a browser could run ({marker})."))
            : (type, Convert.ToHexStringLower(hash.GetHashAndReset()), size, null);
    }

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

    private string Signature(long id, long expires)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, keys.Current.Key, 32, info: "aap file links"u8.ToArray());
        var mac = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}.{expires}")));
        return Convert.ToHexStringLower(mac);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload by user {UserId} refused: {Reason}")]
    private partial void LogRejected(long userId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} deleted files; kept {Kept} still in use; {Failed} failed")]
    private partial void LogPurged(int count, int kept, int failed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purge kept deleted file {FileId}: still needed by {UsedBy}")]
    private partial void LogKept(long fileId, IEnumerable<FileReference> usedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purge could not remove deleted file {FileId}; it is tried again by the next purge")]
    private partial void LogPurgeFailed(Exception exception, long fileId);
}
