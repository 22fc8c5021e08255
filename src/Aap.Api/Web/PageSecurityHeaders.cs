using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace Aap.Api.Web;

/// <summary>
/// Gives page responses the pages' Content-Security-Policy (<c>Security:Headers:PagesContentSecurityPolicy</c>):
/// scripts, styles and images from this origin only, forms posted only here. The platform's middleware keeps a
/// policy a response already has, and gives every other response the API's <c>default-src 'none'</c>.
/// </summary>
internal sealed class PageSecurityHeaders(IOptions<SecurityHeadersOptions> options) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = options.Value.PagesContentSecurityPolicy;
        // Same-origin form posts carry their Origin (under "no-referrer" they would say "null").
        headers["Referrer-Policy"] = "same-origin";
        // A page shows the signed-in user's data: never from a shared cache. The values antiforgery sets on every
        // page that renders a token; any other value would make it log a warning (to the file, under a lock) for
        // every page render before overriding it.
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
        return next();
    }
}
