using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Aap.Api.Web;

/// <summary>
/// What a page answers when its authorization fails: a guest is sent to sign in (and back afterwards), a signed-in
/// user without the role gets the 403 page. The API's routes keep their 401/403 problem+json.
/// </summary>
internal sealed class PageAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!PageRequests.IsPage(context) || authorizeResult.Succeeded)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        if (authorizeResult.Challenged || context.User.Identity?.IsAuthenticated != true)
        {
            var returnUrl = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.Redirect("/account/sign-in?returnUrl=" + Uri.EscapeDataString(returnUrl));
            return Task.CompletedTask;
        }

        // No body: the status-code pages render /error/403 in the layout.
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
