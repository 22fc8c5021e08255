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

    /// <summary>When each running job's current run started (or was queued), by job name.</summary>
    public IReadOnlyDictionary<string, DateTime> RunningSince { get; private set; } = new Dictionary<string, DateTime>();

    [TempData]
    public string? StatusMessage { get; set; }

    public string? Alert { get; private set; }

    public bool AnyRunning => Jobs.Any(j => j.Running);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(jobs, cancellationToken);

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
        await LoadAsync(jobs, cancellationToken);
        return Page();
    }

    private async Task LoadAsync(JobsService service, CancellationToken cancellationToken)
    {
        Jobs = await service.ListAsync(cancellationToken);
        var since = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        foreach (var job in Jobs.Where(j => j.Running))
        {
            var latest = await service.RunsAsync(job.Name, new PageQuery { Page = 1, Size = 1 }, cancellationToken);
            if (latest.Succeeded && latest.Value.Data is [var run] && JobRunStatus.Active.Contains(run.Status))
            {
                since[job.Name] = run.StartedAt ?? run.QueuedAt;
            }
        }

        RunningSince = since;
    }

    public static string When(DateTime? at) =>
        at is { } value ? value.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) : "—";
}
