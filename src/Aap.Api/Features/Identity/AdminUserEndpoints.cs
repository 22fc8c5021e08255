using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Features.Identity;

/// <summary><c>GET /api/v1/admin/users</c>: the accounts, searched and filtered, for admins.</summary>
internal static class AdminUserEndpoints
{
    public static IEndpointRouteBuilder MapAdminUserEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/admin/users", ListUsers).WithName("ListUsers").WithTags("Admin: users").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403)
            .WithSummary("Accounts, newest first, paged. Filters: q (username or email contains, case-insensitive), role (admin or user), active (true or false).");
        return endpoints;
    }

    internal static async Task<Results<Ok<PagedEnvelope<AdminUserResponse>>, ProblemHttpResult>> ListUsers(
        [AsParameters] PageQuery paging, string? q, string? role, bool? active, AccountService accounts, HttpContext context, CancellationToken cancellationToken)
    {
        var listed = await accounts.SearchAsync(q, role, active, paging, cancellationToken);
        if (!listed.Succeeded)
        {
            return listed.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, listed.Value.Meta);
        return TypedResults.Ok(listed.Value);
    }
}
