using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Aap.Api.Web;

/// <summary>
/// "Previous / Page n of m / Next" under a list, rendered by <c>Pages/Shared/_PageLinks.cshtml</c>: plain links that
/// keep the list's other query values (filters, sort), so a page of a list can be shared and reloaded. With
/// <paramref name="Target"/> (a CSS selector of the list's container): with htmx only that container is swapped.
/// </summary>
internal sealed record PageLinks(PageMeta Meta, string Path, IReadOnlyDictionary<string, string?> Query, string Label, string Target)
{
    public int Last => Math.Max(1, Meta.TotalPages);

    public bool HasPrevious => Meta.Page > 1;

    public bool HasNext => Meta.Page < Last;

    public string Href(int page)
    {
        var values = Query.Where(q => q.Key is not ("page" or "handler" or "id") && !string.IsNullOrEmpty(q.Value)).ToDictionary(q => q.Key, q => q.Value);
        values["page"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return QueryHelpers.AddQueryString(Path, values);
    }

    /// <summary>
    /// The page number a list was asked for (<c>?page=</c>, 1 when absent or bad). Read from the query string, not bound
    /// by name: Razor Pages' route value <c>page</c> (the page's path) would win over it.
    /// </summary>
    public static int PageNumberOf(HttpRequest request) =>
        int.TryParse(request.Query["page"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var page)
            ? Math.Clamp(page, 1, PageQuery.MaxPage)
            : 1;

    /// <summary>The current request's query values, for <see cref="Query"/>.</summary>
    public static IReadOnlyDictionary<string, string?> Of(HttpRequest request) =>
        request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.Ordinal);
}
