using System.Text.Json;
using Aap.Api.Features.Todos;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace Aap.Api.Web.Pages.Todos;

/// <summary>
/// <c>/todos</c>: the caller's to-dos through <see cref="TodoService"/>, filtered, searched, sorted and paged by a GET
/// form (the address can be shared), with a form to add one and one-button complete, delete and restore.
/// <c>?view=deleted</c> lists the deleted ones.
/// </summary>
internal sealed class TodosModel(TodoService todos) : PageModel
{
    private const int Size = 20;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "priority")]
    public string? Priority { get; set; }

    [BindProperty(SupportsGet = true, Name = "sort")]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true, Name = "view")]
    public string? View { get; set; }

    /// <summary>What the last action did, shown after its redirect (<c>role=status</c>).</summary>
    [TempData]
    public string? Done { get; set; }

    [BindProperty]
    public TodoInput Input { get; set; } = new();

    public bool Deleted => View == "deleted";

    public PagedEnvelope<TodoResponse> Tasks { get; private set; } = new([], new PageMeta(1, Size, 0, 0));

    /// <summary>Errors of the list's filters (by query name) or of the add form (by field).</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    private long Me => User.UserId()!.Value;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Input = new TodoInput { Priority = "normal" };
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAddAsync(CancellationToken cancellationToken)
    {
        var request = Input.ToRequest();
        if (!request.Succeeded)
        {
            AddFailed = true;
            return await RefuseAsync(request.Failure, cancellationToken);
        }

        var created = await todos.CreateAsync(Me, request.Value, cancellationToken);
        Done = $"Added \u201c{created.Task.Title}\u201d.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostCompleteAsync(long id, CancellationToken cancellationToken)
    {
        using var patch = JsonDocument.Parse("""{"status":"completed"}""");
        return await AfterAsync(await todos.PatchAsync(Me, id, patch.RootElement, null, cancellationToken), "Completed", cancellationToken);
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id, CancellationToken cancellationToken)
    {
        var task = await todos.FindAsync(Me, id, cancellationToken);
        var failure = task is null ? Failure.NotFound($"Task {id}") : await todos.DeleteAsync(Me, id, null, cancellationToken);
        if (failure is not null)
        {
            return await RefuseAsync(failure, cancellationToken);
        }

        Done = $"Deleted \u201c{task!.Task.Title}\u201d. It is listed under Deleted, where it can be restored.";
        return Redirect(ListUrl());
    }

    public async Task<IActionResult> OnPostRestoreAsync(long id, CancellationToken cancellationToken) =>
        await AfterAsync(await todos.RestoreAsync(Me, id, cancellationToken), "Restored", cancellationToken);

    /// <summary>This list's address (filters, sort, page), to come back to it after an action.</summary>
    public string ListUrl() => QueryHelpers.AddQueryString("/todos", Query());

    /// <summary>Where an action's form posts: the handler, the task, and this list's query, to come back to.</summary>
    public string ActionUrl(string handler, long id) =>
        QueryHelpers.AddQueryString("/todos", new Dictionary<string, string?>(Query()) { ["handler"] = handler, ["id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>The add form failed: it is shown open, with its errors.</summary>
    public bool AddFailed { get; private set; }

    /// <summary>This list's query values.</summary>
    public Dictionary<string, string?> Query() =>
        new Dictionary<string, string?>
        {
            ["q"] = Q, ["status"] = Status, ["priority"] = Priority, ["sort"] = Sort, ["view"] = View,
            ["page"] = Request.Query["page"].ToString(),
        }.Where(q => !string.IsNullOrEmpty(q.Value)).ToDictionary(q => q.Key, q => q.Value);

    private async Task<IActionResult> AfterAsync(Result<TodoVersion> outcome, string verb, CancellationToken cancellationToken)
    {
        if (!outcome.Succeeded)
        {
            return await RefuseAsync(outcome.Failure, cancellationToken);
        }

        Done = $"{verb} \u201c{outcome.Value.Task.Title}\u201d.";
        return Redirect(ListUrl());
    }

    private async Task<IActionResult> RefuseAsync(Failure failure, CancellationToken cancellationToken)
    {
        Response.StatusCode = failure.Status;
        Errors = failure.Errors;
        Alert = failure.Detail;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var filter = new TodoFilter(Blank(Status), Blank(Priority), Q, Blank(Sort), IncludeDeleted: false, OnlyDeleted: Deleted);
        var paging = new PageQuery { Page = PageLinks.PageNumberOf(Request), Size = Size };
        var listed = await todos.ListAsync(Me, filter, paging, cancellationToken);
        if (listed.Succeeded)
        {
            Tasks = listed.Value;
        }
        else
        {
            Response.StatusCode = listed.Failure.Status;
            Errors ??= listed.Failure.Errors;
            Alert ??= listed.Failure.Detail;
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
