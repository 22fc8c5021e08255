using System.Globalization;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Aap.Api.Web.Pages.Apps;

/// <summary>
/// <c>/apps/{id}</c>: one active app (points, category, store link) and the caller's completion of it. A signed-in
/// user who has not completed it sends a screenshot here: the same <see cref="RewardsService.CompleteAsync"/> as
/// <c>POST /api/v1/apps/{id}/completions</c>. Without JavaScript the form posts and is redirected back (or shown
/// again with the refusal next to the field); <c>wwwroot/js/upload.js</c> sends it with XHR for the progress bar
/// and swaps in the <c>_Completion</c> section this handler answers: 200 with the new status, or the refusal's own
/// 4xx (as the API answers it) with the refusal next to the field.
/// </summary>
[AllowAnonymous]
internal sealed class AppDetailsModel(AppsCatalog catalog, AppCategories categories, RewardsService rewards, IOptions<StorageOptions> storage) : PageModel
{
    /// <summary>The header upload.js sends: answer with the completion section only.</summary>
    public const string PartialHeader = "X-Upload-Partial";

    public AppResponse App { get; private set; } = null!;

    public string? CategoryName { get; private set; }

    /// <summary>The caller's completion of this app, or null (none yet, or a guest).</summary>
    public CompletionResponse? Completion { get; private set; }

    /// <summary>Why the last screenshot was refused, shown next to the field.</summary>
    public string? Error { get; private set; }

    public bool SignedIn => User.UserId() is not null;

    /// <summary>The form is offered while the caller has no completion, and again next to a refusal.</summary>
    public bool CanComplete => SignedIn && (Completion is null || Error is not null);

    /// <summary>The largest screenshot the server accepts (<c>Storage:MaxFileBytes</c>), checked by the browser too.</summary>
    public long MaxBytes => storage.Value.MaxFileBytes;

    /// <summary>The types the server accepts for screenshots (<c>Storage:Categories:screenshots</c>).</summary>
    public IReadOnlyList<FileType> AcceptedTypes =>
        [.. storage.Value.Categories.GetValueOrDefault(RewardsService.ScreenshotCategory, []).Select(FileTypes.Find).OfType<FileType>()];

    public string AcceptAttribute => string.Join(',', AcceptedTypes.Select(t => t.ContentType).Concat(AcceptedTypes.SelectMany(t => t.Extensions)));

    public string AcceptedTypeNames => string.Join(", ", AcceptedTypes.Select(t => t.Name.ToUpperInvariant()));

    public string MaxSizeText => Size(MaxBytes);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(long id, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        if (User.UserId() is not { } me)
        {
            return LocalRedirect($"/account/sign-in?returnUrl={Uri.EscapeDataString($"/apps/{id}")}");
        }

        var completed = await rewards.CompleteAsync(me, id, screenshot, cancellationToken);
        var partial = Request.Headers[PartialHeader] == "true";
        if (completed.Succeeded && !partial)
        {
            return LocalRedirect($"/apps/{id}");
        }

        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        if (!completed.Succeeded)
        {
            // The API's status (415, 413, 409, 422) for both paths: upload.js renders the section it answers too.
            Error = completed.Failure.Errors.ErrorOf("screenshot") ?? completed.Failure.Detail;
            Response.StatusCode = completed.Failure.Status;
        }

        return partial ? Partial("_Completion", this) : Page();
    }

    private async Task<bool> LoadAsync(long id, CancellationToken cancellationToken)
    {
        if (await catalog.GetActiveAsync(id, cancellationToken) is not { } app)
        {
            return false;
        }

        App = app;
        if (app.Category is { } slug)
        {
            CategoryName = (await categories.ListAsync(cancellationToken)).FirstOrDefault(c => c.Slug == slug)?.Name ?? slug;
        }

        if (User.UserId() is { } me)
        {
            Completion = await rewards.CompletionOfAsync(me, id, cancellationToken);
        }

        return true;
    }

    /// <summary>Where the caller's completion stands, in words; a flagged one waits for review like any pending one.</summary>
    public string StatusText => Completion switch
    {
        null => SignedIn ? "Not completed yet." : "Sign in to see your completion.",
        { Status: CompletionStatus.Approved } c => $"Approved: {c.Points} points credited.",
        { Status: CompletionStatus.Rejected } c => $"Rejected: {c.ReviewReason}",
        _ => "Pending review: an admin will check your screenshot.",
    };

    private static string Size(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MB",
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024d * 1024):0.#} MB"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024d:0.#} KB"),
        _ => $"{bytes} bytes",
    };
}
