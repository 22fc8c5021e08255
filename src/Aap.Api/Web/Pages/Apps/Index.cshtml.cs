using Aap.Api.Features.Apps;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Apps;

/// <summary>
/// <c>/apps</c>: the catalog of active apps, for guests too. A GET form (search, category, sort) and page links, all
/// in the query string, so that a list can be shared and reloaded; with htmx only the results region is swapped
/// (<c>_AppResults</c>) and the address follows (<c>hx-push-url</c>). The list is the one <c>GET /api/v1/apps</c>
/// serves (<see cref="AppsCatalog.SearchAsync"/>).
/// </summary>
[AllowAnonymous]
internal sealed class AppListModel(AppsCatalog catalog, AppCategories categories) : PageModel
{
    public const int PageSize = 10;

    /// <summary>The sort select's choices: the catalog's sort keys, '-' for descending.</summary>
    public static readonly IReadOnlyList<(string Value, string Label)> SortOptions =
    [
        (AppsCatalog.DefaultSort, "Newest first"),
        ("created_at", "Oldest first"),
        ("name", "Name, A to Z"),
        ("-name", "Name, Z to A"),
        ("-points", "Most points first"),
        ("points", "Fewest points first"),
    ];

    public string? Query { get; private set; }

    public string? Category { get; private set; }

    public string Sort { get; private set; } = AppsCatalog.DefaultSort;

    public int PageNumber { get; private set; } = 1;

    public IReadOnlyList<CategoryResponse> Categories { get; private set; } = [];

    public IReadOnlyList<AppResponse> Apps { get; private set; } = [];

    public PageMeta Meta { get; private set; } = new(1, PageSize, 0, 0);

    /// <summary>Whether the results are rendered for an htmx swap (then the summary travels out of band).</summary>
    public bool IsPartial { get; private set; }

    // "page" is read from the query string only: it is also the route value Razor Pages routes by.
    public async Task<IActionResult> OnGetAsync(
        [FromQuery(Name = "q")] string? q, [FromQuery(Name = "category")] string? category, [FromQuery(Name = "sort")] string? sort,
        [FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        // Values the form cannot produce fall back to the defaults instead of failing: the address may be hand-made.
        Sort = SortOptions.Any(o => o.Value == sort) ? sort! : AppsCatalog.DefaultSort;
        PageNumber = page is >= 1 and <= PageQuery.MaxPage ? page.Value : 1;
        Query = string.IsNullOrWhiteSpace(q) ? null : q.Trim();
        Categories = await categories.ListAsync(cancellationToken);
        Category = Categories.Any(c => c.Slug == category) ? category : null;

        var found = await catalog.SearchAsync(Query, Category, Sort, new PageQuery { Page = PageNumber, Size = PageSize }, cancellationToken);
        if (!found.Succeeded)
        {
            return StatusCode(found.Failure.Status);
        }

        Apps = found.Value.Data;
        Meta = found.Value.Meta;
        _catalogPage = found.Value;

        // htmx asks for the results only; a history restore (htmx's cache missed) needs the whole page.
        if (Request.Headers["HX-Request"] == "true" && Request.Headers["HX-History-Restore-Request"] != "true")
        {
            IsPartial = true;
            return Partial("_AppResults", this);
        }

        return Page();
    }

    private object? _catalogPage;

    /// <summary>
    /// The key of the page's body as cached HTML (<c>&lt;cache&gt;</c> in Index.cshtml): nothing in it depends on the
    /// user. It names the catalog page the cache served (<see cref="FragmentStamps"/>: a write to the catalog, or the
    /// catalog entry's expiry, gives another), the categories as listed, and the request's own values.
    /// </summary>
    public string BodyCacheKey => string.Join('\u001f',
        FragmentStamps.Of(_catalogPage ?? Apps), Query, Category, Sort, PageNumber,
        string.Join('\u001e', Categories.Select(c => $"{c.Slug}\u001d{c.Name}\u001d{c.Apps}")));

    public int LastPage => Math.Max(1, Meta.TotalPages);

    public string? CategoryName(string? slug) => slug is null ? null : Categories.FirstOrDefault(c => c.Slug == slug)?.Name ?? slug;

    /// <summary>The page links under the list (same search, category and sort); htmx swaps the results only.</summary>
    public PageLinks Pager => new(Meta, "/apps", new Dictionary<string, string?>
    {
        ["q"] = Query,
        ["category"] = Category,
        ["sort"] = Sort == AppsCatalog.DefaultSort ? null : Sort,
    }, "Pages", "#app-results", PartialAnswer: true);

    public string Summary => Meta.Total switch
    {
        0 => "No app matches.",
        1 => $"1 app · page {Meta.Page} of {LastPage}",
        var n => $"{n} apps · page {Meta.Page} of {LastPage}",
    };
}
