using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Aap.Api.Web;

/// <summary>
/// The one pager of the web front: "Previous page / Page n of m / Next page" under a list, rendered by
/// <c>Pages/Shared/_PageLinks.cshtml</c> when the list has more than one page. Plain links that keep the list's other
/// query values (search, filters, sort) and change only <see cref="Parameter"/> (<c>page</c>, as in the API; page 1
/// leaves it out), so any page of any list can be shared and reloaded.
/// With <see cref="Target"/> (a CSS selector of the list's container), htmx swaps only that container and updates the
/// address: by default the container is picked out of the whole page the link answers (<c>hx-select</c>);
/// with <see cref="PartialAnswer"/> the link's answer is already the container's content (the apps list).
/// </summary>
internal sealed record PageLinks(
    PageMeta Meta,
    string Path,
    IReadOnlyDictionary<string, string?> Query,
    string Label,
    string? Target = null,
    string Parameter = PageLinks.DefaultParameter,
    bool PartialAnswer = false)
{
    /// <summary>
    /// With cursors: the query parameter that carries one (never carried over from the current request), and the
    /// cursors of the next and previous pages' links (null: that link names its page by number alone). A cursor lets
    /// the list read the page from the row next to it instead of counting the rows before it (the leaderboard's).
    /// </summary>
    public string? CursorParameter { get; init; }

    public string? NextCursor { get; init; }

    public string? PreviousCursor { get; init; }

    /// <summary>The query parameter of the page number, in every list (as in the API).</summary>
    public const string DefaultParameter = "page";

    public int Last => Math.Max(1, Meta.TotalPages);

    public bool HasPrevious => Meta.Page > 1;

    public bool HasNext => Meta.Page < Last;

    /// <summary>The page before this one; a page past the end goes back to the last one.</summary>
    public int Previous => Math.Min(Meta.Page - 1, Last);

    public string Href(int page, string? cursor = null)
    {
        // Names compared as the request's query reads them (without regard to case), so that ?PAGE=2 is not carried
        // beside the link's own page=.
        var values = Query.Where(q => !Replaced(q.Key) && !string.IsNullOrEmpty(q.Value))
            .ToDictionary(q => q.Key, q => q.Value, StringComparer.OrdinalIgnoreCase);
        if (page > 1)
        {
            values[Parameter] = page.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (CursorParameter is not null && cursor is not null)
        {
            values[CursorParameter] = cursor;
        }

        return QueryHelpers.AddQueryString(Path, values);
    }

    private bool Replaced(string name) =>
        string.Equals(name, Parameter, StringComparison.OrdinalIgnoreCase) || string.Equals(name, "handler", StringComparison.OrdinalIgnoreCase) ||
        (CursorParameter is not null && string.Equals(name, CursorParameter, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The page number a list was asked for (<c>?page=</c>, or a form field of that name on a POST that returns to
    /// the list; 1 when absent or bad). Read from the request, not bound by name: Razor Pages' route value
    /// <c>page</c> (the page's path) would win over a bound property of that name.
    /// </summary>
    public static int PageNumberOf(HttpRequest request, string parameter = DefaultParameter)
    {
        var value = request.Query[parameter].ToString();
        if (value.Length == 0 && request.HasFormContentType)
        {
            value = request.Form[parameter].ToString();
        }

        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var page)
            ? Math.Clamp(page, 1, PageQuery.MaxPage)
            : 1;
    }

    /// <summary>The current request's query values, for <see cref="Query"/>.</summary>
    public static IReadOnlyDictionary<string, string?> Of(HttpRequest request) =>
        request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.Ordinal);
}
