using System.Globalization;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web.Admin;

/// <summary><c>/admin/jobs</c> while a run is in progress: it shows since when it runs and its items so far, then its outcome and count.</summary>
public sealed class JobsProgressPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_jobs_page_shows_a_running_job_with_its_items_so_far_and_then_the_finished_run_with_its_count()
    {
        await using var factory = new PagesFactory();
        var gate = factory.WithProgressJob();
        await factory.InitializeAsync();
        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/jobs");
        var page = browser.Page;
        var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = ProgressJob.Name, Exact = true }) });
        await Expect(row).ToContainTextAsync("scheduled");

        await row.GetByRole(AriaRole.Button, new() { Name = $"Run now: {ProgressJob.Name}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToHaveTextAsync($"A run of {ProgressJob.Name} was queued.");
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // The table refreshes itself while the job runs: the run, held by the test, has reported 40 items.
        var started = factory.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        await Expect(row).ToContainTextAsync($"running since {started}, 40 items so far");
        var stored = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().SingleAsync(r => r.Job == ProgressJob.Name, Ct));
        stored.Status.ShouldBe(JobRunStatus.Running);
        stored.Items.ShouldBe(40);
        await browser.AssertAccessibleAsync();

        gate.Release.SetResult();

        await Expect(row).ToContainTextAsync("succeeded, 42 items");
        await Expect(row).Not.ToContainTextAsync("running");
        (await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().SingleAsync(r => r.Job == ProgressJob.Name, Ct))).Items.ShouldBe(42);
        await browser.AssertNoProblemsAsync();
    }
}
