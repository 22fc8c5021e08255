using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// Completing an app's task (<c>POST /api/v1/apps/{id}/completions</c>: the route reads as the app's, the completion
/// is a reward's, see ADR 9), the caller's completions, and the admins' review queue.
/// </summary>
internal static class CompletionEndpoints
{
    public static IEndpointRouteBuilder MapCompletionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/apps/{id}/completions", Complete).WithName("CompleteApp").WithTags("Completions").RequireAuthorization().DisableAntiforgery()
            .AcceptsMultipartUpload(MultipartForms.File("screenshot", "The proof: an image of the completed task.")).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(415)
            .WithSummary("Complete an app's task with a screenshot (multipart field 'screenshot'); points are credited at once or after review.");
        endpoints.MapGet("/api/v1/me/completions", MyCompletions).WithName("ListMyCompletions").WithTags("Completions").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401).PagesByKeyset<CompletionResponse>()
            .WithSummary("The caller's completions, newest first, by page number or by cursor.");

        var admin = endpoints.MapGroup("/api/v1/admin/completions").WithTags("Admin: rewards").RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403);
        admin.MapGet("", ListCompletions).WithName("ListCompletions").ProducesProblem(400).PagesByKeyset<CompletionResponse>()
            .WithSummary("Completions, newest first, by page number or by cursor; filters: status, user, app, flagged.");
        admin.MapGet("/{id}", GetCompletion).WithName("GetCompletion").ProducesProblem(404)
            .WithSummary("One completion of any user, with its review status.");
        admin.MapPost("/{id}/approve", Approve).WithName("ApproveCompletion").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Approve and credit the points (once, however often it is called).");
        admin.MapPost("/{id}/reject", Reject).WithName("RejectCompletion").ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Reject a pending completion with a reason (1 to 500 characters); no points are credited.");
        admin.MapDelete("/{id}", DeleteCompletion).WithName("DeleteCompletion").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Remove a completion and take back exactly the points it credited.");
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<CompletionResponse>>, ProblemHttpResult>> Complete(
        long id, HttpContext context, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return Problems.Create(415, ProblemCodes.UnsupportedMediaType, "Send the screenshot as multipart/form-data in a field named 'screenshot'.");
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        var completed = await rewards.CompleteDescribedAsync(caller.UserId()!.Value, id, form.Files.GetFile("screenshot"), cancellationToken);
        return completed.Succeeded
            ? TypedResults.Created("/api/v1/me/completions", new Envelope<CompletionResponse>(completed.Value))
            : completed.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<KeysetEnvelope<CompletionResponse>>, Ok<PagedEnvelope<CompletionResponse>>, ProblemHttpResult>> MyCompletions(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, AppDbContext db, RewardsService rewards, HttpContext context, CancellationToken cancellationToken)
    {
        var me = caller.UserId()!.Value;
        return await PageAsync(db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == me), paging, rewards, context, cancellationToken);
    }

    internal static async Task<Results<Ok<KeysetEnvelope<CompletionResponse>>, Ok<PagedEnvelope<CompletionResponse>>, ProblemHttpResult>> ListCompletions(
        [AsParameters] PageQuery paging, string? status, long? user, long? app, bool? flagged,
        AppDbContext db, RewardsService rewards, HttpContext context, CancellationToken cancellationToken)
    {
        var query = db.Set<AppCompletion>().AsNoTracking();
        if (status is not null)
        {
            // The same spelling the responses use: pending, approved, rejected.
            if (WireEnum.Parse<CompletionStatus>(status) is { } parsed)
            {
                query = query.Where(c => c.Status == parsed);
            }
            else
            {
                return Problems.Validation("status", "Use pending, approved or rejected.");
            }
        }

        query = user is { } u ? query.Where(c => c.UserId == u) : query;
        query = app is { } a ? query.Where(c => c.AppId == a) : query;
        query = flagged is { } f ? query.Where(c => c.Flagged == f) : query;
        return await PageAsync(query, paging, rewards, context, cancellationToken);
    }

    /// <summary>
    /// A page of the completions, newest first, by number or by cursor, each with its names and duplicates
    /// (<see cref="RewardsService.DescribeAsync"/>).
    /// </summary>
    private static async Task<Results<Ok<KeysetEnvelope<CompletionResponse>>, Ok<PagedEnvelope<CompletionResponse>>, ProblemHttpResult>> PageAsync(
        IQueryable<AppCompletion> completions, PageQuery paging, RewardsService rewards, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await completions.ToKeysetPageAsync(
                keyset, c => c.CreatedAt, c => c.Id, CompletionResponse.Projection, c => new KeysetPosition(c.CreatedAt, c.Id), cancellationToken);
            return Keyset.Ok(context, slice with { Data = await rewards.DescribeAsync(slice.Data, cancellationToken) });
        }

        var page = (await completions.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Select(CompletionResponse.Projection)
            .ToPageAsync(paging, context, cancellationToken)).Value!;
        return TypedResults.Ok(page with { Data = await rewards.DescribeAsync(page.Data, cancellationToken) });
    }

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> GetCompletion(long id, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.FindCompletionDetailsAsync(id, cancellationToken) is { } completion
            ? TypedResults.Ok(new Envelope<CompletionResponse>(completion))
            : Failure.NotFound($"Completion {id}").ToProblem();

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> Approve(
        long id, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.ApproveAsync(id, caller.UserId()!.Value, cancellationToken) is { } failure
            ? failure.ToProblem()
            : await GetCompletion(id, rewards, cancellationToken);

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> Reject(
        long id, RejectRequest? request, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        // No body is a missing reason, answered as such by the service (not the framework's "no body was provided").
        await rewards.RejectAsync(id, caller.UserId()!.Value, request?.Reason, cancellationToken) is { } failure
            ? failure.ToProblem()
            : await GetCompletion(id, rewards, cancellationToken);

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteCompletion(long id, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.DeleteCompletionAsync(id, cancellationToken) is { } failure ? failure.ToProblem() : TypedResults.NoContent();
}
