using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Review;

/// <summary>
/// <c>/admin/review</c>: the pending completions, oldest first, each with its screenshot; approve, reject with a
/// reason, or either for several at once (one reason for all). A flagged completion shows the other completions
/// that used the same image beside it. Every action is a plain form post through <see cref="RewardsService"/>
/// (which records it in the audit log); <c>js/review.js</c> adds keyboard shortcuts.
/// </summary>
internal sealed class ReviewQueueModel(RewardsService rewards, FileService files) : PageModel
{
    public const int PageSize = 20;

    /// <summary>
    /// The page of the queue (<c>?page=</c>; a form's hidden <c>page</c> field on a post, so that the action returns
    /// to the same page), read by <see cref="PageLinks.PageNumberOf"/>.
    /// </summary>
    public int PageNumber => PageLinks.PageNumberOf(Request);

    public PageLinks Pager => new(Queue.Meta, "/admin/review", new Dictionary<string, string?>(), "Pages of the queue");

    public PagedEnvelope<CompletionResponse> Queue { get; private set; } = new([], new PageMeta(1, PageSize, 0, 0));

    /// <summary>For each flagged completion on the page, the others with the same image.</summary>
    public IReadOnlyDictionary<long, IReadOnlyList<CompletionResponse>> Sharing { get; private set; } = new Dictionary<long, IReadOnlyList<CompletionResponse>>();

    /// <summary>The thumbnail state (pending, ready, failed) of each screenshot shown, by file id.</summary>
    public IReadOnlyDictionary<long, string> Thumbnails { get; private set; } = new Dictionary<long, string>();

    [TempData]
    public string? StatusMessage { get; set; }

    public string? Alert { get; private set; }

    /// <summary>The completion whose reject form failed, its reason as typed and the error.</summary>
    public long? RejectId { get; private set; }

    public string? RejectReason { get; private set; }

    public string? RejectError { get; private set; }

    public string? BatchReason { get; private set; }

    public string? BatchError { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostApproveAsync(long id, CancellationToken cancellationToken)
    {
        if (await rewards.ApproveAsync(id, Admin(), cancellationToken) is { } failure)
        {
            return await RefusedAsync(failure.Detail, failure.Status, cancellationToken);
        }

        StatusMessage = $"Completion {id} approved.";
        return Back();
    }

    public async Task<IActionResult> OnPostRejectAsync(long id, string? reason, CancellationToken cancellationToken)
    {
        if (await rewards.RejectAsync(id, Admin(), reason, cancellationToken) is { } failure)
        {
            RejectId = id;
            RejectReason = reason;
            RejectError = failure.Errors.ErrorOf("reason");
            return await RefusedAsync(failure.Detail, failure.Status, cancellationToken);
        }

        StatusMessage = $"Completion {id} rejected.";
        return Back();
    }

    public async Task<IActionResult> OnPostApproveSelectedAsync(long[] ids, CancellationToken cancellationToken)
    {
        if (ids.Length == 0)
        {
            return await RefusedAsync("Select at least one completion.", StatusCodes.Status400BadRequest, cancellationToken);
        }

        var skipped = 0;
        foreach (var id in ids.Distinct())
        {
            skipped += await rewards.ApproveAsync(id, Admin(), cancellationToken) is null ? 0 : 1;
        }

        StatusMessage = Summary("approved", ids.Distinct().Count() - skipped, skipped);
        return Back();
    }

    public async Task<IActionResult> OnPostRejectSelectedAsync(long[] ids, string? batchReason, CancellationToken cancellationToken)
    {
        BatchReason = batchReason;
        if (string.IsNullOrWhiteSpace(batchReason) || batchReason.Trim().Length > 500)
        {
            // The service's rule, checked before the first rejection so that nothing is half done.
            BatchError = "A reason of 1 to 500 characters is required.";
            return await RefusedAsync(BatchError, StatusCodes.Status400BadRequest, cancellationToken);
        }

        if (ids.Length == 0)
        {
            return await RefusedAsync("Select at least one completion.", StatusCodes.Status400BadRequest, cancellationToken);
        }

        var skipped = 0;
        foreach (var id in ids.Distinct())
        {
            skipped += await rewards.RejectAsync(id, Admin(), batchReason, cancellationToken) is null ? 0 : 1;
        }

        StatusMessage = Summary("rejected", ids.Distinct().Count() - skipped, skipped);
        return Back();
    }

    /// <summary>The proof as an image the browser shows (the admin-authorised download route, inline).</summary>
    public static string ImageUrl(CompletionResponse completion) => completion.Screenshot + "?inline=true";

    /// <summary>The proof's thumbnail (made by the file-thumbnails job after the upload).</summary>
    public static string ThumbnailUrl(CompletionResponse completion) => completion.Screenshot + "/thumbnail";

    /// <summary>The screenshot's file id, the last segment of its URL (<c>/api/v1/files/{id}</c>).</summary>
    public static long FileIdOf(CompletionResponse completion) =>
        long.Parse(completion.Screenshot.AsSpan(completion.Screenshot.LastIndexOf('/') + 1), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The thumbnail's state for the completion's screenshot: pending, ready or failed.</summary>
    public string ThumbnailOf(CompletionResponse completion) => Thumbnails.GetValueOrDefault(FileIdOf(completion), ThumbnailStatus.Pending);

    private static string Summary(string done, int count, int skipped) =>
        $"{count} completion(s) {done}." + (skipped > 0 ? $" {skipped} skipped: already reviewed or gone." : "");

    private long Admin() => User.UserId()!.Value;

    private LocalRedirectResult Back() => LocalRedirect(Pager.Href(PageNumber));

    private async Task<PageResult> RefusedAsync(string alert, int status, CancellationToken cancellationToken)
    {
        Alert = alert;
        Response.StatusCode = status;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Queue = await rewards.ReviewQueueAsync(new PageQuery { Page = PageNumber, Size = PageSize }, cancellationToken);
        var sharing = new Dictionary<long, IReadOnlyList<CompletionResponse>>();
        foreach (var flagged in Queue.Data.Where(c => c.Flagged))
        {
            sharing[flagged.Id] = await rewards.CompletionsSharingProofAsync(flagged.Id, cancellationToken);
        }

        Sharing = sharing;
        var shown = Queue.Data.Concat(sharing.Values.SelectMany(s => s)).Select(FileIdOf).Distinct().ToList();
        Thumbnails = await files.ThumbnailStatesAsync(shown, cancellationToken);
    }
}
