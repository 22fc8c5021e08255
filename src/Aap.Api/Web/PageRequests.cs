using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web;

/// <summary>Which requests the pages answer, as opposed to the API's routes (JSON, problem+json) and static files.</summary>
internal static class PageRequests
{
    /// <summary>The request was routed to a Razor Page.</summary>
    public static bool IsPage(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<PageActionDescriptor>() is not null;

    /// <summary>The methods pages answer; any other on a page's address is a 405.</summary>
    public static bool IsPageMethod(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsPost(method);

    /// <summary>The client says it takes HTML (a browser's navigation does).</summary>
    public static bool AcceptsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && a.Quality is not 0d);

    /// <summary>
    /// A page, or a browser navigating to an address nothing answers (outside <c>/api</c>): both get HTML error pages.
    /// API clients keep their problem+json.
    /// </summary>
    public static bool IsPageRequest(HttpContext context)
    {
        if (IsPage(context))
        {
            return true;
        }

        var request = context.Request;
        return context.GetEndpoint() is null &&
               (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) &&
               !request.Path.StartsWithSegments("/api") &&
               AcceptsHtml(request);
    }
}
