using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Persistence;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Web;
using Aap.Api.Tests.Web.Admin;
using Aap.Api.Web.Pages.Admin;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>
/// <c>/admin</c> while PostgreSQL is stopped under a running AAP and after it is started again (docs/web.md): the
/// figures kept are shown with the "newer ones are being computed" note until they are <see cref="DashboardFigures.MaxAge"/>
/// old, then the site's error page (503, Retry-After); once the database is back the page computes new figures, with
/// nothing restarted; and the host still stops (a scheduler clustered on that database included).
/// </summary>
public sealed class AdminDashboardOutageTests
{
    /// <summary>Far longer than a stop takes; past it the stop is reported as hung rather than left to hang the run.</summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kept_figures_are_shown_for_60_s_of_an_outage_then_503_and_new_ones_once_the_database_is_back_and_the_host_stops()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        var host = PagesFactory.ForPages(new OutageFactory(DatabaseProvider.Postgres));
        host.With("ConnectionStrings:Default", postgres.ConnectionString);
        var stopped = false;
        try
        {
            await host.InitializeAsync();
            var admin = await host.CreateAdminAsync();
            var app = await host.AddAppAsync(points: 5);
            // The test moves the clock past the figures' 60 s; the access tokens (30 s by default) must outlive that,
            // or the browser session's renewal would need the database before the figures do.
            using (var adminApi = await host.ClientForAsync(admin))
            using (var lifetime = await adminApi.PutAsJsonAsync("/api/v1/admin/settings/auth.access_token_lifetime_seconds", new { value = 600 }, Ct))
            {
                lifetime.StatusCode.ShouldBe(HttpStatusCode.OK, await lifetime.Content.ReadAsStringAsync(Ct));
            }

            var cookie = await DashboardFiguresTests.SignInAsync(host, admin);
            using var user = await host.ClientForAsync(await host.RegisterAsync());
            var figures = host.Services.GetRequiredService<DashboardFigures>();

            // The admin has seen the dashboard: figures computed now.
            string html;
            using (var seen = await RenderAsync(host, cookie))
            {
                html = await seen.Content.ReadAsStringAsync(Ct);
                seen.StatusCode.ShouldBe(HttpStatusCode.OK, html);
            }

            var approved = DashboardFiguresTests.Stat(html, "stat-approved");
            html.ShouldNotContain("newer ones are being computed");

            await postgres.StopAsync(Ct);

            // Stale but within the bound: the kept figures, with the note; the refresh this starts fails (logged).
            host.Clock.Advance(DashboardFigures.FreshFor + TimeSpan.FromSeconds(1));
            await ShowsKeptFiguresAsync(host, cookie, approved);
            await SettledAsync(figures.Refreshing);
            // Each stale request tries again, and is still answered with the kept figures up to the bound.
            host.Clock.Advance(DashboardFigures.MaxAge - DashboardFigures.FreshFor - TimeSpan.FromSeconds(2));
            await ShowsKeptFiguresAsync(host, cookie, approved);
            await SettledAsync(figures.Refreshing);

            // Past the bound: no figures, the site's error page.
            host.Clock.Advance(TimeSpan.FromSeconds(1));
            using (var refused = await RenderAsync(host, cookie))
            {
                var page = await refused.Content.ReadAsStringAsync(Ct);
                refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, page);
                refused.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
                refused.Headers.RetryAfter?.Delta.ShouldBe(TimeSpan.FromSeconds(5));
                page.ShouldContain("Temporarily unavailable");
                page.ShouldNotContain("stat-approved");
            }

            await postgres.StartAgainAsync(Ct);

            // A change made after the restart shows: the page computes new figures, with nothing restarted.
            using (var completion = await Outages.UntilAsync(() => user.CompleteAsync(app, Images.Screenshot()), HttpStatusCode.Created))
            {
                completion.StatusCode.ShouldBe(HttpStatusCode.Created, await completion.Content.ReadAsStringAsync(Ct));
            }

            (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.Status == CompletionStatus.Approved, Ct))).ShouldBe(approved + 1);
            using (var fresh = await RenderAsync(host, cookie))
            {
                html = await fresh.Content.ReadAsStringAsync(Ct);
                fresh.StatusCode.ShouldBe(HttpStatusCode.OK, html);
            }

            DashboardFiguresTests.Stat(html, "stat-approved").ShouldBe(approved + 1);
            html.ShouldNotContain("newer ones are being computed");

            stopped = true;
            await StopWithinBoundAsync(host);
        }
        finally
        {
            if (!stopped)
            {
                await StopWithinBoundAsync(host);
            }
        }
    }

    /// <summary>Waits for the refresh under way, if any, to end, whether it failed (the database is down) or not.</summary>
    private static Task SettledAsync(Task? refresh) =>
        (refresh ?? Task.CompletedTask).ContinueWith(static _ => { }, Ct, TaskContinuationOptions.None, TaskScheduler.Default);

    private static async Task ShowsKeptFiguresAsync(AapFactory host, string cookie, int approved)
    {
        using var response = await RenderAsync(host, cookie);
        var html = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, html);
        DashboardFiguresTests.Stat(html, "stat-approved").ShouldBe(approved);
        html.ShouldContain("newer ones are being computed");
    }

    private static async Task<HttpResponseMessage> RenderAsync(AapFactory host, string cookie)
    {
        using var client = RawPages.Client(host);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin");
        request.Headers.Add("Cookie", cookie);
        request.Headers.Accept.ParseAdd("text/html");
        return await client.SendAsync(request, Ct);
    }

    /// <summary>
    /// Stops and disposes the host; a stop that does not end within <see cref="StopBound"/> fails the test. The
    /// scheduler waits on the application's clock, here the test's fake one: a trigger whose firing failed during the
    /// outage is handed back after a retry delay on that clock, and the scheduler's thread (which the stop waits for)
    /// stays in that delay until the clock moves. So the clock moves while the host stops, as time would.
    /// </summary>
    internal static async Task StopWithinBoundAsync(AapFactory host)
    {
        using var stopped = new CancellationTokenSource();
        var time = Task.Run(async () =>
        {
            while (!stopped.IsCancellationRequested)
            {
                host.Clock.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);
        try
        {
            await host.DisposeAsync().AsTask().WaitAsync(StopBound, Ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The host did not stop within {StopBound.TotalSeconds:0} s after the database outage (a hung dispose).");
        }
        finally
        {
            await stopped.CancelAsync();
            await time;
        }
    }
}
