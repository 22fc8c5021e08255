using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Features.Files;

/// <summary>Uploads and downloads: <c>/api/v1/files</c>.</summary>
internal static class FileEndpoints
{
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var files = endpoints.MapGroup("/api/v1/files").WithTags("Files").ProducesProblem(401).ProducesProblem(404);
        files.MapPost("", Upload).WithName("UploadFile").RequireAuthorization().DisableAntiforgery()
            .AcceptsMultipartUpload(MultipartForms.File("file", "The file; its type is decided by its content."), MultipartForms.Text("category", "A category slug (optional).")).ProducesProblem(415)
            .WithSummary("Upload a file (multipart field 'file', optional 'category'). The type is decided by its content.");
        files.MapGet("", List).WithName("ListFiles").RequireAuthorization().ProducesProblem(400).PagesByKeyset<FileResponse>()
            .WithSummary("The caller's files, newest first, by page number or by cursor.");
        files.MapGet("/{id}", Download).WithName("DownloadFile").RequireAuthorization()
            .WithSummary("The content, to its owner or an admin. Range requests on the local store; ?inline=true shows images in the browser.");
        files.MapGet("/{id}/thumbnail", Thumbnail).WithName("GetFileThumbnail").RequireAuthorization()
            .WithSummary("The image's thumbnail (JPEG, at most Storage:Thumbnails:Size pixels on its long side), to whoever may download the file. 404 with code thumbnail_pending until the job has made it, thumbnail_failed when the image could not be read, no_thumbnail for a file that is not an image.");
        files.MapGet("/{id}/link", Link).WithName("GetFileLink").RequireAuthorization()
            .WithSummary("A URL that downloads the file without a token for Storage:LinkSeconds.");
        files.MapGet("/{id}/content", SignedDownload).WithName("DownloadSignedFile").AllowAnonymous()
            .WithSummary("The target of a signed local link (expires and signature in the query).");
        files.MapDelete("/{id}", Delete).WithName("DeleteFile").RequireAuthorization().ProducesProblem(409)
            .WithSummary("Soft-delete a file; its content is removed by the purge. A completion's proof is refused (409, used_by names the completion).");
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<FileResponse>>, ProblemHttpResult>> Upload(
        HttpContext context, ClaimsPrincipal caller, FileService files, CancellationToken cancellationToken)
    {
        var received = await files.ReceiveAsync(context.Request, caller.UserId()!.Value, cancellationToken);
        return received.Succeeded
            ? TypedResults.Created(received.Value.Url, new Envelope<FileResponse>(received.Value))
            : received.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<KeysetEnvelope<FileResponse>>, Ok<PagedEnvelope<FileResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, Platform.Persistence.AppDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        var owner = caller.UserId()!.Value;
        var files = db.Set<StoredFile>().AsNoTracking().Where(f => f.OwnerId == owner);
        if (keyset is not null)
        {
            return Keyset.Ok(context, await files.ToKeysetPageAsync(
                keyset, f => f.CreatedAt, f => f.Id, FileResponse.Projection, f => new KeysetPosition(f.CreatedAt, f.Id), cancellationToken));
        }

        return await files.OrderByDescending(f => f.CreatedAt).ThenByDescending(f => f.Id)
            .Select(FileResponse.Projection)
            .ToPageAsync(paging, context, cancellationToken);
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(
        long id, bool? inline, ClaimsPrincipal caller, FileDownloads files, HttpContext context, CancellationToken cancellationToken)
    {
        var file = await files.FindReadableAsync(id, caller.UserId()!.Value, caller.IsAdmin(), cancellationToken);
        return file is null ? Problems.NotFound($"File {id}") : await StreamAsync(file, inline == true, files, context, cancellationToken);
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Thumbnail(
        long id, ClaimsPrincipal caller, FileDownloads files, HttpContext context, CancellationToken cancellationToken)
    {
        var file = await files.FindReadableAsync(id, caller.UserId()!.Value, caller.IsAdmin(), cancellationToken);
        if (file is null)
        {
            return Problems.NotFound($"File {id}");
        }

        switch (file.ThumbnailStatus)
        {
            case null:
                return Problems.Create(404, FileCodes.NoThumbnail, $"File {id} has no thumbnail: it is not an image.");
            case ThumbnailStatus.Pending:
                return Problems.Create(404, FileCodes.ThumbnailPending, $"The thumbnail of file {id} is not made yet; try again in a moment.");
            case ThumbnailStatus.Failed:
                return Problems.Create(404, FileCodes.ThumbnailFailed, $"The thumbnail of file {id} could not be made: {file.ThumbnailError}");
        }

        var content = await files.OpenThumbnailAsync(file, cancellationToken);
        if (content is null)
        {
            return Problems.NotFound($"The thumbnail of file {id}");
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "sandbox; default-src 'none'; frame-ancestors 'none'";
        headers.CacheControl = "private, no-cache";
        return TypedResults.Stream(content.Content, ThumbnailMaker.ContentType, fileDownloadName: null,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}-thumbnail\""), enableRangeProcessing: false);
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> SignedDownload(
        long id, long? expires, string? signature, FileDownloads files, HttpContext context, CancellationToken cancellationToken)
    {
        if (expires is null || !files.IsValidLink(id, expires.Value, signature))
        {
            return Problems.Create(403, ProblemCodes.Forbidden, "The link is invalid or has expired; ask for a new one.");
        }

        var file = await files.FindKeptAsync(id, cancellationToken);
        return file is null ? Problems.NotFound($"File {id}") : await StreamAsync(file, inline: false, files, context, cancellationToken);
    }

    internal static async Task<Results<Ok<Envelope<FileLinkResponse>>, ProblemHttpResult>> Link(
        long id, ClaimsPrincipal caller, FileDownloads files, HttpContext context, CancellationToken cancellationToken)
    {
        var file = await files.FindReadableAsync(id, caller.UserId()!.Value, caller.IsAdmin(), cancellationToken);
        if (file is null)
        {
            return Problems.NotFound($"File {id}");
        }

        var (url, expiresAt) = await files.LinkAsync(file, new Uri($"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}"), cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new Envelope<FileLinkResponse>(new FileLinkResponse(url.ToString(), expiresAt)));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        long id, ClaimsPrincipal caller, FileService files, CancellationToken cancellationToken)
    {
        var deletion = await files.DeleteAsync(id, caller.UserId()!.Value, caller.IsAdmin(), cancellationToken);
        if (!deletion.Found)
        {
            return Problems.NotFound($"File {id}");
        }

        if (deletion.UsedBy.Count == 0)
        {
            return TypedResults.NoContent();
        }

        var problem = Problems.Create(409, FileCodes.InUse,
            $"File {id} cannot be deleted: it is the proof of {string.Join(", ", deletion.UsedBy)}. It goes when that is deleted.");
        problem.ProblemDetails.Extensions["used_by"] = deletion.UsedBy.Select(r => new { kind = r.Kind, id = r.Id }).ToArray();
        return problem;
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> StreamAsync(
        StoredFile file, bool inline, FileDownloads files, HttpContext context, CancellationToken cancellationToken)
    {
        var content = await files.OpenAsync(file, cancellationToken);
        if (content is null)
        {
            return Problems.NotFound($"The content of file {file.Id}");
        }

        // Served files never run: no sniffing, and a sandbox even when a browser renders them.
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        headers.CacheControl = "private, no-cache";
        var showInline = inline && file.ContentType.StartsWith("image/", StringComparison.Ordinal);
        headers.ContentDisposition = new ContentDispositionHeaderValue(showInline ? "inline" : "attachment")
        {
            FileNameStar = file.OriginalName,
        }.ToString();
        return TypedResults.Stream(content.Content, file.ContentType, fileDownloadName: null,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: content.Content.CanSeek);
    }
}
