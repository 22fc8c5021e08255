using Aap.Api.Features.Apps;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web;

/// <summary>
/// Pages whose whole answer is the same for every caller of one audience (guests, users, admins: the navigation is
/// all that differs), kept in the output cache like the catalog's API answers: <c>/apps</c>, under the catalog's tag,
/// so that any write to the catalog evicts it on every node. A shared page renders no antiforgery token (it has
/// nothing to post: its form is a GET), which is what lets one rendering serve many users; a cache hit costs about
/// what an API read does instead of a page render (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// What may differ between two users of one audience must not be in a shared page or in the layout it uses: the layout
/// renders the signed-in user's name nowhere and, on a shared page, no request token (<see cref="Mark"/>).
/// </remarks>
internal static class SharedPages
{
    /// <summary>The <c>ViewData</c> key a shared page sets, so that the layout renders no per-request secret.</summary>
    public const string ViewDataKey = "aap.shared-page";

    /// <summary>The headers a page's answer varies by beyond the address: htmx asks for the results region only.</summary>
    private static readonly string[] VaryByHeaders = ["HX-Request", "HX-History-Restore-Request"];

    private static readonly HashSet<string> CatalogPages = new(StringComparer.Ordinal) { "/Apps/Index" };

    /// <summary>Marks a page's view data as a shared page's (called by the page itself, from its .cshtml).</summary>
    public static void Mark(Microsoft.AspNetCore.Mvc.ViewFeatures.ViewDataDictionary viewData) => viewData[ViewDataKey] = true;

    /// <summary>Whether this page's view data says it is shared (the layout renders no request token then).</summary>
    public static bool IsShared(Microsoft.AspNetCore.Mvc.ViewFeatures.ViewDataDictionary viewData) => viewData[ViewDataKey] is true;

    /// <summary>Who one cached answer serves: the navigation shows one set of links to guests, one to users, one to admins.</summary>
    public static string AudienceOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated != true ? "guest" : context.User.IsAdmin() ? "admin" : "user";

    /// <summary>Gives the shared pages' endpoints the catalog's output-cache policy, by audience.</summary>
    public static PageActionEndpointConventionBuilder CacheSharedPages(this PageActionEndpointConventionBuilder pages, IServiceProvider services)
    {
        var catalog = AppsCatalog.OutputPolicy(services).ForAudiences(AudienceOf, VaryByHeaders);
        pages.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<PageActionDescriptor>().FirstOrDefault() is { } page && CatalogPages.Contains(page.ViewEnginePath))
            {
                endpoint.Metadata.Add(catalog);
            }
        });
        return pages;
    }
}
