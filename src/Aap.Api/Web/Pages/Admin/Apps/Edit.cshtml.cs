using Aap.Api.Features.Apps;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Apps;

/// <summary><c>/admin/apps/{id}/edit</c>: replaces a live app's fields through <see cref="AppsAdmin.ReplaceAsync"/>.</summary>
internal sealed class AdminAppEditModel(AppsAdmin admin) : PageModel
{
    [BindProperty]
    public AppFormInput Input { get; set; } = new();

    public string AppName { get; private set; } = "";

    public IReadOnlyList<AppCategoryChoice> Categories { get; private set; } = [];

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken)
    {
        if (await admin.FindAsync(id, cancellationToken) is not { DeletedAt: null } app)
        {
            return NotFound();
        }

        AppName = app.Name;
        Input = AppFormInput.Of(app);
        Categories = await admin.CategoryChoicesAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken cancellationToken)
    {
        var replaced = await admin.ReplaceAsync(id, Input.ToRequest(), cancellationToken);
        if (replaced.Succeeded)
        {
            StatusMessage = $"{replaced.Value.Name} is saved.";
            return LocalRedirect("/admin/apps");
        }

        if (replaced.Failure.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }

        Response.StatusCode = replaced.Failure.Status;
        Errors = replaced.Failure.Errors;
        Alert = replaced.Failure.Detail;
        AppName = (await admin.FindAsync(id, cancellationToken))?.Name ?? "";
        Categories = await admin.CategoryChoicesAsync(cancellationToken);
        return Page();
    }
}
