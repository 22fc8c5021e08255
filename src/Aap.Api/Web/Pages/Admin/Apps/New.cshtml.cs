using Aap.Api.Features.Apps;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Apps;

/// <summary><c>/admin/apps/new</c>: publishes an app through <see cref="AppsAdmin.CreateAsync"/>; its field errors come back next to the fields.</summary>
internal sealed class AdminAppNewModel(AppsAdmin admin) : PageModel
{
    [BindProperty]
    public AppFormInput Input { get; set; } = new();

    public IReadOnlyList<AppCategoryChoice> Categories { get; private set; } = [];

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Categories = await admin.CategoryChoicesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var created = await admin.CreateAsync(Input.ToRequest(), cancellationToken);
        if (created.Succeeded)
        {
            StatusMessage = $"{created.Value.Name} is published.";
            return LocalRedirect("/admin/apps");
        }

        Response.StatusCode = created.Failure.Status;
        Errors = created.Failure.Errors;
        Alert = created.Failure.Detail;
        Categories = await admin.CategoryChoicesAsync(cancellationToken);
        return Page();
    }
}
