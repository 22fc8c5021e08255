using System.Net;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web.Admin;

/// <summary><c>/admin/jobs</c> and <c>/admin/jobs/{name}</c>: the jobs, run now, pause and resume, and a job's run history.</summary>
public sealed class JobsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_runs_a_job_now_from_the_jobs_page_and_the_new_run_appears_succeeded_in_its_history()
    {
        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin");
        var page = browser.Page;
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Admin sections" }).GetByRole(AriaRole.Link, new() { Name = "Jobs" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Jobs");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "job-history-trim", Exact = true }) });
        await Expect(row).ToContainTextAsync("Daily 03:40");
        await Expect(row).ToContainTextAsync("0 40 3 * * ?");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "file-thumbnails", Exact = true })).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = "Run now: job-history-trim" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).First).ToHaveTextAsync("A run of job-history-trim was queued.");
        await row.GetByRole(AriaRole.Link, new() { Name = "job-history-trim", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Runs of job-history-trim");
        var run = page.GetByRole(AriaRole.Table, new() { Name = "Runs of job-history-trim, newest first" }).GetByRole(AriaRole.Row).Nth(1);
        // The history refreshes itself while the run is queued or running.
        await Expect(run).ToContainTextAsync("succeeded");
        await Expect(run).ToContainTextAsync("run now");
        var stored = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().SingleAsync(r => r.Job == "job-history-trim", Ct));
        stored.Status.ShouldBe(JobRunStatus.Succeeded);
        stored.Manual.ShouldBeTrue();
        await Expect(run).ToContainTextAsync(stored.Node!);
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("1 run recorded.");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Pause_takes_away_the_next_run_and_resume_brings_it_back()
    {
        var admin = await factory.CreateAdminAsync();
        using var api = await factory.ClientForAsync(admin);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/jobs");
        var page = browser.Page;
        var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "idempotency-expiry", Exact = true }) });

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause idempotency-expiry" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).First).ToHaveTextAsync("idempotency-expiry is paused: it has no next run until it is resumed.");
        await Expect(row).ToContainTextAsync("none (paused)");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Resume idempotency-expiry" })).ToBeVisibleAsync();
        (await PausedAsync(api, "idempotency-expiry")).ShouldBeTrue();
        await browser.AssertAccessibleAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume idempotency-expiry" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).First).ToHaveTextAsync("idempotency-expiry is resumed.");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Pause idempotency-expiry" })).ToBeVisibleAsync();
        await Expect(row).Not.ToContainTextAsync("none (paused)");
        (await PausedAsync(api, "idempotency-expiry")).ShouldBeFalse();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_user_opening_the_jobs_page_gets_403()
    {
        var user = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(user);

        var response = await browser.GotoAsync("/admin/jobs");

        response!.Status.ShouldBe(403);
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not allowed");
        (await browser.GotoAsync("/admin/jobs/job-history-trim"))!.Status.ShouldBe(403);
        await browser.AssertNoProblemsAsync();
    }

    private static async Task<bool> PausedAsync(HttpClient admin, string job)
    {
        using var response = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == job).GetProperty("paused").GetBoolean();
    }
}
