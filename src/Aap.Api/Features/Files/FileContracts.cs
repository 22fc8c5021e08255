using System.Linq.Expressions;
using Aap.Api.Platform;

namespace Aap.Api.Features.Files;

/// <summary>A stored file as the API shows it (<c>POST /api/v1/files</c>, the listing, seed 002's <c>/upload</c>).</summary>
[FeatureSurface]
internal sealed record FileResponse(long Id, string Url, string ContentType, long Size, string Sha256, string OriginalName, string Category, DateTime CreatedAt)
{
    public static readonly Expression<Func<StoredFile, FileResponse>> Projection = f =>
        new FileResponse(f.Id, "/api/v1/files/" + f.Id, f.ContentType, f.Size, f.Sha256, f.OriginalName, f.Category, f.CreatedAt);

    public static FileResponse From(StoredFileInfo file) =>
        new(file.Id, "/api/v1/files/" + file.Id, file.ContentType, file.Size, file.Sha256, file.OriginalName, file.Category, file.CreatedAt);
}

/// <summary>What another feature gets back for a file it stored through <see cref="FileService"/>.</summary>
[FeatureSurface]
internal sealed record StoredFileInfo(long Id, string Sha256, string ContentType, long Size, string OriginalName, string Category, DateTime CreatedAt)
{
    public static StoredFileInfo From(StoredFile file) =>
        new(file.Id, file.Sha256, file.ContentType, file.Size, file.OriginalName, file.Category, file.CreatedAt);
}

internal sealed record FileLinkResponse(string Url, DateTime ExpiresAt);

internal static class FileCodes
{
    /// <summary>The file is still needed (a completion's proof) and cannot be deleted.</summary>
    public const string InUse = "file_in_use";

    /// <summary>The file's thumbnail is not made yet (the job runs shortly after the upload).</summary>
    public const string ThumbnailPending = "thumbnail_pending";

    /// <summary>The file's thumbnail could not be made (the image could not be read); the detail says why.</summary>
    public const string ThumbnailFailed = "thumbnail_failed";

    /// <summary>The file gets no thumbnail: it is not an image.</summary>
    public const string NoThumbnail = "no_thumbnail";
}

/// <summary>What a delete did: nothing (not found, or not the caller's), or refused because of <see cref="UsedBy"/>, or done.</summary>
internal sealed record FileDeletion(bool Found, IReadOnlyList<FileReference> UsedBy)
{
    public static readonly FileDeletion NotFound = new(false, []);
}

/// <summary>What a purge did: files removed, kept because something still needs them, and failed (logged; retried next time).</summary>
internal sealed record FilePurge(int Purged, int Kept, int Failed);
