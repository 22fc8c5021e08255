using Aap.Api.Features.Apps;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Apps;

/// <summary>
/// <c>/admin/apps</c>: every app in a table that a GET form searches, filters by state, sorts and pages (the query
/// string holds it all, so a URL can be shared); activate, deactivate and restore post back here and return to the
/// same list. All through <see cref="AppsAdmin"/>.
/// </summary>
internal sealed class AdminAppsModel(AppsAdmin admin) : PageModel
{
    public const int PageSize = 20;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "state")]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true, Name = "sort")]
    public string? Sort { get; set; }

    /// <summary>The page asked for (<c>?page=</c>, read by <see cref="PageLinks.PageNumberOf"/>).</summary>
    public int PageNumber { get; private set; } = 1;

    public PagedEnvelope<AdminAppResponse> Apps { get; private set; } = new([], new PageMeta(1, PageSize, 0, 0));

    public string? Alert { get; private set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public static readonly IReadOnlyList<(string Value, string Label)> States = [("", "Live (active and inactive)"), ("active", "Active"), ("inactive", "Inactive"), ("deleted", "Deleted")];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        AdminAppState? state = State switch
        {
            "active" => AdminAppState.Active,
            "inactive" => AdminAppState.Inactive,
            "deleted" => AdminAppState.Deleted,
            _ => null,
        };
        PageNumber = PageLinks.PageNumberOf(Request);
        var paging = new PageQuery { Page = PageNumber, Size = PageSize };
        var listed = await admin.ListAsync(new AdminAppFilter(Q, state, Sort), paging, cancellationToken);
        if (!listed.Succeeded)
        {
            Response.StatusCode = listed.Failure.Status;
            Alert = listed.Failure.Errors.ErrorOf("sort") ?? listed.Failure.Detail;
            return Page();
        }

        Apps = listed.Value;
        return Page();
    }

    public async Task<IActionResult> OnPostSetActiveAsync(long id, bool active, string? back, CancellationToken cancellationToken)
    {
        var changed = await admin.SetActiveAsync(id, active, cancellationToken);
        StatusMessage = changed.Succeeded
            ? $"{changed.Value.Name} is now {(active ? "active" : "inactive")}."
            : changed.Failure.Detail;
        return BackToList(back);
    }

    public async Task<IActionResult> OnPostRestoreAsync(long id, string? back, CancellationToken cancellationToken)
    {
        var restored = await admin.RestoreAsync(id, cancellationToken);
        StatusMessage = restored.Succeeded
            ? $"{restored.Value.Name} is restored."
            : restored.Failure.Errors.ErrorOf("name") is { } name ? $"{restored.Failure.Detail} {name}" : restored.Failure.Detail;
        return BackToList(back);
    }

    /// <summary>The list's address with this query, with <paramref name="sort"/> or <paramref name="page"/> changed.</summary>
    public string ListUrl(string? sort = null, int? page = null)
    {
        var query = new List<KeyValuePair<string, string?>>();
        if (!string.IsNullOrWhiteSpace(Q))
        {
            query.Add(new("q", Q));
        }

        if (!string.IsNullOrEmpty(State))
        {
            query.Add(new("state", State));
        }

        var order = sort ?? Sort;
        if (!string.IsNullOrEmpty(order))
        {
            query.Add(new("sort", order));
        }

        var number = page ?? (sort is null ? PageNumber : 1);
        if (number > 1)
        {
            query.Add(new(PageLinks.DefaultParameter, number.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return "/admin/apps" + QueryString.Create(query);
    }

    /// <summary>The page links under the table (same search, status and sort); htmx swaps the results only.</summary>
    public PageLinks Pager => new(Apps.Meta, "/admin/apps", new Dictionary<string, string?> { ["q"] = Q, ["state"] = State, ["sort"] = Sort }, "Pages of apps", "#apps-results");

    /// <summary>The header link of a column: ascending first, descending when it is already ascending.</summary>
    public string SortUrl(string field) => ListUrl(sort: CurrentSort == field ? "-" + field : field);

    public string? AriaSort(string field) =>
        CurrentSort == field ? "ascending" : CurrentSort == "-" + field ? "descending" : null;

    private string CurrentSort => string.IsNullOrWhiteSpace(Sort) ? "name" : Sort.Trim();

    private LocalRedirectResult BackToList(string? back) =>
        LocalRedirect(back is not null && back.StartsWith("/admin/apps", StringComparison.Ordinal) && !back.StartsWith("/admin/apps/", StringComparison.Ordinal) ? back : "/admin/apps");
}
