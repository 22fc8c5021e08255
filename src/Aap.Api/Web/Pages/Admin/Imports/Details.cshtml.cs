using Aap.Api.Features.Imports;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Imports;

/// <summary>
/// <c>/admin/imports/{id}</c>: one import. While it is queued or running, the page asks for its progress again every
/// second (htmx) and stops once it has ended; then it shows the summary, or why it failed, and the rejects download.
/// </summary>
internal sealed class DetailsModel(ImportAdminService imports) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "id")]
    public Guid Id { get; set; }

    public ImportResponse Import { get; private set; } = null!;

    public string? StatusMessage { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var import = await imports.GetAsync(Id, cancellationToken);
        if (!import.Succeeded)
        {
            return NotFound();
        }

        Import = import.Value;
        return Page();
    }

    /// <summary>The rejects CSV, for the download link (the page's session, not a bearer token).</summary>
    public async Task<IActionResult> OnGetRejectsAsync(CancellationToken cancellationToken)
    {
        var rejects = await imports.OpenRejectsAsync(Id, cancellationToken);
        if (rejects.Succeeded)
        {
            return File(rejects.Value.Content, "text/csv; charset=utf-8", rejects.Value.FileName);
        }

        // Removed after Imports:RetentionDays: say so, rather than a bare 404.
        return rejects.Failure.Status == StatusCodes.Status410Gone ? new ContentResult { StatusCode = StatusCodes.Status410Gone, Content = rejects.Failure.Detail, ContentType = "text/plain; charset=utf-8" } : NotFound();
    }

    public async Task<IActionResult> OnPostCancelAsync(CancellationToken cancellationToken)
    {
        var cancelled = await imports.CancelAsync(Id, cancellationToken);
        var import = await imports.GetAsync(Id, cancellationToken);
        if (!import.Succeeded)
        {
            return NotFound();
        }

        Import = import.Value;
        StatusMessage = cancelled.Succeeded
            ? Import.State == ImportStates.Cancelled ? "The import is cancelled." : "The import is asked to stop; it rolls back within a second."
            : cancelled.Failure.Detail;
        return Page();
    }
}
