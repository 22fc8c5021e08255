using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Features.Identity;

/// <summary><c>/api/v1/admin/users</c>: the accounts, searched and filtered, and an admin's changes to one, for admins.</summary>
internal static class AdminUserEndpoints
{
    public static IEndpointRouteBuilder MapAdminUserEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/admin/users", ListUsers).WithName("ListUsers").WithTags("Admin: users").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).PagesByKeyset<AdminUserResponse>()
            .WithSummary("Accounts, newest first, by page number or by cursor. Filters: q (username or email contains, case-insensitive), role (admin or user), active (true or false).");
        var user = endpoints.MapGroup("/api/v1/admin/users/{id}").WithTags("Admin: users").RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);
        user.MapGet("", GetUser).WithName("GetUser")
            .WithSummary("One account, active or not, with locked_until (until when password checks are refused, or null).");
        user.MapPatch("", UpdateUser).WithName("UpdateUser").ProducesProblem(400).ProducesProblem(409)
            .WithSummary("Change an account's role (admin or user) and/or is_active; deactivating or demoting ends its sessions at once. Audited. Not your own account, not the last active admin (409).");
        user.MapPost("/unlock", UnlockUser).WithName("UnlockUser")
            .WithSummary("Clear an account's lock-out (the failed-password counts of its id, username and email) so it can sign in at once. Audited.");
        return endpoints;
    }

    internal static async Task<Results<Ok<KeysetEnvelope<AdminUserResponse>>, Ok<PagedEnvelope<AdminUserResponse>>, ProblemHttpResult>> ListUsers(
        [AsParameters] PageQuery paging, string? q, string? role, bool? active, AccountService accounts, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await accounts.SearchAsync(q, role, active, keyset, cancellationToken);
            return slice.Succeeded ? Keyset.Ok(context, slice.Value) : slice.Failure.ToProblem();
        }

        var listed = await accounts.SearchAsync(q, role, active, paging, cancellationToken);
        if (!listed.Succeeded)
        {
            return listed.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, listed.Value.Meta);
        return TypedResults.Ok(listed.Value);
    }

    internal static async Task<Results<Ok<Envelope<AdminUserDetails>>, ProblemHttpResult>> GetUser(long id, AccountService accounts, CancellationToken cancellationToken) =>
        Answer(await accounts.FindForAdminAsync(id, cancellationToken));

    internal static async Task<Results<Ok<Envelope<AdminUserDetails>>, ProblemHttpResult>> UpdateUser(
        long id, UpdateUserRequest request, AccountService accounts, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        Answer(await accounts.UpdateByAdminAsync(caller.UserId(), id, request.Role, request.IsActive, cancellationToken));

    internal static async Task<Results<Ok<Envelope<AdminUserDetails>>, ProblemHttpResult>> UnlockUser(
        long id, AccountService accounts, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        Answer(await accounts.UnlockAsync(caller.UserId(), id, cancellationToken));

    private static Results<Ok<Envelope<AdminUserDetails>>, ProblemHttpResult> Answer(Result<AdminUserDetails> result) =>
        result.Succeeded ? TypedResults.Ok(new Envelope<AdminUserDetails>(result.Value)) : result.Failure.ToProblem();
}
