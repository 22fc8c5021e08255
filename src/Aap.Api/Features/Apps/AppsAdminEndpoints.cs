using System.Text.Json;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Apps;

/// <summary>Admins publish and manage apps: <c>POST/PUT/PATCH/DELETE /api/v1/apps</c>, over <see cref="AppsAdmin"/>.</summary>
internal static class AppsAdminEndpoints
{
    public static IEndpointRouteBuilder MapAppsAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var apps = endpoints.MapGroup("/api/v1/apps").WithTags("Apps").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        apps.MapPost("", Create).WithName("CreateApp").WithSummary("Publish an app (admin).").ProducesProblem(409);
        apps.MapPut("/{id}", Replace).WithName("ReplaceApp").WithSummary("Replace an app's fields (admin).").ProducesProblem(404).ProducesProblem(409);
        apps.MapPatch("/{id}", Patch).WithName("PatchApp").Accepts<JsonElement>(MergePatch.MediaType, "application/json")
            .WithSummary("Change the fields sent (JSON merge patch, RFC 7396); null clears description or category (admin).").ProducesProblem(404).ProducesProblem(409);
        apps.MapDelete("/{id}", Delete).WithName("DeleteApp").WithSummary("Soft-delete an app (admin).").ProducesProblem(404);
        apps.MapPost("/{id}/restore", Restore).WithName("RestoreApp").WithSummary("Bring back a deleted app (admin).").ProducesProblem(404).ProducesProblem(409);
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<AdminAppResponse>>, ProblemHttpResult>> Create(
        AppRequest request, AppsAdmin admin, CancellationToken cancellationToken)
    {
        var created = await admin.CreateAsync(request, cancellationToken);
        return created.Succeeded
            ? TypedResults.Created($"/api/v1/apps/{created.Value.Id}", new Envelope<AdminAppResponse>(created.Value))
            : created.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Replace(
        long id, AppRequest request, AppsAdmin admin, CancellationToken cancellationToken) =>
        Answer(await admin.ReplaceAsync(id, request, cancellationToken));

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Patch(
        long id, JsonElement patch, AppsAdmin admin, CancellationToken cancellationToken) =>
        Answer(await admin.PatchAsync(id, patch, cancellationToken));

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(long id, AppsAdmin admin, CancellationToken cancellationToken) =>
        await admin.DeleteAsync(id, cancellationToken) is { } failure ? failure.ToProblem() : TypedResults.NoContent();

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Restore(
        long id, AppsAdmin admin, CancellationToken cancellationToken) =>
        Answer(await admin.RestoreAsync(id, cancellationToken));

    private static Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult> Answer(Result<AdminAppResponse> result) =>
        result.Succeeded ? TypedResults.Ok(new Envelope<AdminAppResponse>(result.Value)) : result.Failure.ToProblem();
}
