using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>
/// The read side of the files API: which file a caller may download, its content, and links that download it
/// without a token. Used by the files endpoints only; other features go through <see cref="FileService"/>.
/// </summary>
internal sealed class FileDownloads(
    AppDbContext db,
    IFileStore store,
    IOptions<StorageOptions> options,
    FileLinks links,
    TimeProvider clock,
    IEnumerable<IFileReferences> references)
{
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
        return file is { DeletedAt: not null } && (await references.FindAllAsync([id], cancellationToken)).Count == 0 ? null : file;
    }

    public Task<StoredObject?> OpenAsync(StoredFile file, CancellationToken cancellationToken) => store.OpenAsync(file.Key, cancellationToken);

    /// <summary>The file's thumbnail once it is ready (its status says why not otherwise), or null when its content is gone.</summary>
    public Task<StoredObject?> OpenThumbnailAsync(StoredFile file, CancellationToken cancellationToken) =>
        file is { ThumbnailStatus: ThumbnailStatus.Ready, ThumbnailKey: { } key } ? store.OpenAsync(key, cancellationToken) : Task.FromResult<StoredObject?>(null);

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
        return (new Uri(baseAddress, $"/api/v1/files/{file.Id}/content?expires={expires}&signature={links.Sign(file.Id, expires)}"), expiresAt);
    }

    /// <summary>Checks a signed local link: one of the link keys signed it and it has not expired.</summary>
    public bool IsValidLink(long id, long expires, string? signature) => links.IsValid(id, expires, signature);
}
