using Aap.Api.Features.Apps;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Apps;

/// <summary>
/// <c>/admin/apps/{id}/delete</c>: the confirmation a delete asks for (a plain page, so it works without script), then
/// the soft delete of <see cref="AppsAdmin.DeleteAsync"/>; the list's "Deleted" filter can restore it.
/// </summary>
internal sealed class AdminAppDeleteModel(AppsAdmin admin) : PageModel
{
    public AdminAppResponse? App { get; private set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken)
    {
        App = await admin.FindAsync(id, cancellationToken);
        return App is { DeletedAt: null } ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken cancellationToken)
    {
        var app = await admin.FindAsync(id, cancellationToken);
        if (app is null || await admin.DeleteAsync(id, cancellationToken) is not null)
        {
            return NotFound();
        }

        StatusMessage = $"{app.Name} is deleted; it can be restored from the deleted apps.";
        return LocalRedirect("/admin/apps");
    }
}
