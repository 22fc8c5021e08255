using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Jobs;

/// <summary>
/// <c>/admin/jobs</c>: every scheduled and queued job with its description, schedule, next run, last run and outcome,
/// and whether it is paused or running; Run now, Pause and Resume are plain form posts through
/// <see cref="JobsService"/> (the same as the admin API), which htmx turns into partial swaps. While a job runs, the
/// table refreshes itself every few seconds.
/// </summary>
internal sealed class IndexModel(JobsService jobs) : PageModel
{
    public IReadOnlyList<JobResponse> Jobs { get; private set; } = [];

    [TempData]
    public string? StatusMessage { get; set; }

    public string? Alert { get; private set; }

    public bool AnyRunning => Jobs.Any(j => j.Running);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostRunAsync(string name, CancellationToken cancellationToken)
    {
        var queued = await jobs.TriggerAsync(name, cancellationToken);
        if (!queued.Succeeded)
        {
            return await RefusedAsync(queued.Failure, cancellationToken);
        }

        StatusMessage = $"A run of {name} was queued.";
        return LocalRedirect("/admin/jobs");
    }

    public Task<IActionResult> OnPostPauseAsync(string name, CancellationToken cancellationToken) => PauseAsync(name, pause: true, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(string name, CancellationToken cancellationToken) => PauseAsync(name, pause: false, cancellationToken);

    private async Task<IActionResult> PauseAsync(string name, bool pause, CancellationToken cancellationToken)
    {
        if (await jobs.PauseAsync(name, pause, cancellationToken) is { } failure)
        {
            return await RefusedAsync(failure, cancellationToken);
        }

        StatusMessage = pause ? $"{name} is paused: it has no next run until it is resumed." : $"{name} is resumed.";
        return LocalRedirect("/admin/jobs");
    }

    private async Task<PageResult> RefusedAsync(Failure failure, CancellationToken cancellationToken)
    {
        Alert = failure.Detail;
        Response.StatusCode = failure.Status;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Jobs = await jobs.ListAsync(cancellationToken);

    /// <summary>"running since …, N items so far" (or "queued since …"), as the run in progress last reported.</summary>
    public static string Progress(JobCurrentRun run)
    {
        var since = run.Status == JobRunStatus.Queued ? $"queued since {When(run.QueuedAt)}" : $"running since {When(run.StartedAt ?? run.QueuedAt)}";
        return run.Items is { } items ? $"{since}, {Items(items)} so far" : since;
    }

    /// <summary>"1 item", "12 items".</summary>
    public static string Items(long count) => count == 1 ? "1 item" : $"{count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} items";

    public static string When(DateTime? at) =>
        at is { } value ? value.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) : "—";
}
