using System.Security.Claims;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Dialects;

/// <summary>
/// Seed 002, the production API checklist: its file upload example, <c>POST /upload</c>, a validated multipart upload
/// answered like <c>POST /api/v1/files</c>.
/// </summary>
internal static class Seed002
{
    public static IEndpointRouteBuilder MapSeed002(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/upload", Upload).WithName("SeedUpload").WithTags("Seed dialects").RequireAuthorization().DisableAntiforgery()
            .WithSummary("Seed 002 upload: answered exactly like POST /api/v1/files (multipart 'file', optional 'category').")
            .AcceptsMultipartUpload(MultipartForms.File("file", "The file; its type is decided by its content."), MultipartForms.Text("category", "A category slug (optional).")).ProducesProblem(401).ProducesProblem(415);
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
}
