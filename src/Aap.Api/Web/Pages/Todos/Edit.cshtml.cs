using Aap.Api.Features.Todos;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Todos;

/// <summary>
/// <c>/todos/{id}/edit</c>: every field of one of the caller's to-dos. The form carries the version it was read at
/// (the task's ETag, as <c>If-Match</c>): a change made meanwhile elsewhere is refused, not overwritten.
/// </summary>
internal sealed class EditTodoModel(TodoService todos) : PageModel
{
    [BindProperty]
    public TodoInput Input { get; set; } = new();

    [BindProperty]
    public string? Version { get; set; }

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    private long Me => User.UserId()!.Value;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken)
    {
        if (await todos.FindAsync(Me, id, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        Input = TodoInput.Of(found.Task);
        Version = found.ETag;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken cancellationToken)
    {
        var request = Input.ToRequest();
        var saved = request.Succeeded ? await todos.ReplaceAsync(Me, id, request.Value, Version, cancellationToken) : request.Failure;
        if (saved.Succeeded)
        {
            TempData["Done"] = $"Saved \u201c{saved.Value.Task.Title}\u201d.";
            return Redirect("/todos");
        }

        if (saved.Failure.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }

        Response.StatusCode = saved.Failure.Status;
        Errors = saved.Failure.Errors;
        Alert = saved.Failure == TodoService.Stale
            ? "This to-do was changed elsewhere since you opened it. Reload the page to edit the current version."
            : saved.Failure.Detail;
        return Page();
    }
}
