namespace Aap.Api.Features.Identity;

/// <summary>
/// Refuses state-changing requests that a browser authenticated with AAP's cookies from another site: when such a
/// request carries an <c>Origin</c> (or, lacking it, a <c>Referer</c>) that is neither this service nor an allowed
/// CORS origin, it gets 403. Requests with an <c>Authorization</c> header, and clients that send neither header,
/// are not affected.
/// </summary>
internal sealed class CrossSiteCookieGuard(RequestDelegate next, Microsoft.Extensions.Options.IOptions<Platform.Security.CorsOptions> cors)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) ||
            request.Headers.Authorization.Count > 0 ||
            !(request.Cookies.ContainsKey(AuthCookies.Access) || request.Cookies.ContainsKey(AuthCookies.Refresh)))
        {
            await next(context);
            return;
        }

        var source = request.Headers.Origin.ToString();
        if (source.Length == 0 && Uri.TryCreate(request.Headers.Referer.ToString(), UriKind.Absolute, out var referer))
        {
            source = referer.GetLeftPart(UriPartial.Authority);
        }

        var own = $"{request.Scheme}://{request.Host}";
        if (source.Length == 0 || string.Equals(source, own, StringComparison.OrdinalIgnoreCase) ||
            cors.Value.AllowedOrigins.Contains(source, StringComparer.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 403,
                Detail = "A cookie-authenticated request from another site is refused.",
                Extensions = { ["code"] = "cross_site_request" },
            },
        });
    }
}
