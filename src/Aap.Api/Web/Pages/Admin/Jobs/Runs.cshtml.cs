using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Jobs;

/// <summary>
/// <c>/admin/jobs/{name}</c>: one job's runs, newest first, paged (<c>?page=</c>): status, manual or scheduled,
/// attempt, node, when it was queued, started and finished, how long it took, the items it handled and its error.
/// The list refreshes itself every few seconds while a run is queued or running.
/// </summary>
internal sealed class RunsModel(JobsService jobs) : PageModel
{
    public const int PageSize = 20;

    [BindProperty(SupportsGet = true, Name = "name")]
    public string Name { get; set; } = "";

    /// <summary><c>?page=</c>, read from the query string: a property bound as <c>page</c> would get the route value.</summary>
    public int PageNumber => PageLinks.PageNumberOf(Request);

    public JobRegistration? Job { get; private set; }

    public PagedEnvelope<JobRunResponse> Runs { get; private set; } = new([], new PageMeta(1, PageSize, 0, 0));

    public bool AnyActive => Runs.Data.Any(r => JobRunStatus.Active.Contains(r.Status));

    public PageLinks Pager => new(Runs.Meta, $"/admin/jobs/{Uri.EscapeDataString(Name)}", PageLinks.Of(Request), "Pages of the runs");

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Job = jobs.Find(Name);
        var runs = await jobs.RunsAsync(Name, new PageQuery { Page = Math.Clamp(PageNumber, 1, PageQuery.MaxPage), Size = PageSize }, cancellationToken);
        if (Job is null || !runs.Succeeded)
        {
            return NotFound();
        }

        Runs = runs.Value;
        return Page();
    }

    public static string Duration(JobRunResponse run) =>
        run.StartedAt is { } started && run.FinishedAt is { } finished
            ? (finished - started).TotalSeconds.ToString("0.0##", System.Globalization.CultureInfo.InvariantCulture) + " s"
            : "—";
}
