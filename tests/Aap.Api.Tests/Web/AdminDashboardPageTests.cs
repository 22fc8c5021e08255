using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Web.Pages.Admin;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// <c>/admin</c>: the counts and the charts' data tables match the data the test made, on SQLite and on PostgreSQL.
/// The dashboard is cached for 30 s per node, so each factory renders it once, after the data is in place.
/// </summary>
public sealed class AdminDashboardPageTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task The_dashboard_counts_and_chart_tables_match_the_data() => DashboardMatchesAsync(factory);

    [Fact]
    public async Task On_postgres_the_dashboard_counts_and_chart_tables_match_the_data()
    {
        await using var postgres = PagesFactory.ForPages(new PostgresFactory());
        await postgres.InitializeAsync();
        await DashboardMatchesAsync(postgres);
    }

    [Fact]
    public async Task Stale_figures_carry_a_note_and_once_refreshed_a_reload_shows_the_new_ones()
    {
        // A host of its own: the figures are kept per node, and this test moves its clock.
        await using var host = new PagesFactory();
        await host.InitializeAsync();
        var admin = await host.CreateAdminAsync();
        var users = await host.DbAsync(db => db.Set<User>().CountAsync(Ct));
        var apps = await host.DbAsync(db => db.Set<App>().CountAsync(a => a.IsActive && a.DeletedAt == null, Ct));
        var figures = host.Services.GetRequiredService<DashboardFigures>();

        await using var browser = await BrowserSession.StartAsync(host);
        await browser.SignInAsync(admin, "/admin");
        var page = browser.Page;
        var counts = page.GetByRole(AriaRole.Region, new() { Name = "At a glance" });
        var usersCount = counts.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "users (" });
        var appsCount = counts.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "active apps" });
        var note = counts.GetByText("newer ones are being computed");
        await Expect(usersCount).ToHaveTextAsync(new Regex($"^{users} users \\("));
        await Expect(appsCount).ToHaveTextAsync($"{apps} active apps");
        await Expect(counts.GetByText("Figures as of")).ToBeVisibleAsync();
        await Expect(note).ToHaveCountAsync(0);

        // Someone signs up and an app is added; the figures shown are those computed before.
        await host.RegisterAsync();
        await host.AddAppAsync(points: 5);
        host.Clock.Advance(DashboardFigures.FreshFor + TimeSpan.FromSeconds(1));
        await page.ReloadAsync();
        await Expect(note).ToBeVisibleAsync();
        await Expect(usersCount).ToHaveTextAsync(new Regex($"^{users} users \\("));
        await Expect(appsCount).ToHaveTextAsync($"{apps} active apps");
        await browser.AssertAccessibleAsync();

        // The background refresh that reload started is done: the next reload shows the new figures, without the note.
        await (figures.Refreshing ?? Task.CompletedTask);
        await page.ReloadAsync();
        await Expect(usersCount).ToHaveTextAsync(new Regex($"^{users + 1} users \\("));
        await Expect(appsCount).ToHaveTextAsync($"{apps + 1} active apps");
        await Expect(note).ToHaveCountAsync(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    private static async Task DashboardMatchesAsync(AapFactory factory)
    {
        var admin = await factory.CreateAdminAsync();
        var first = await factory.RegisterAsync();
        var second = await factory.RegisterAsync();
        var big = await factory.AddAppAsync(points: 10);
        var small = await factory.AddAppAsync(points: 7);
        using var firstClient = await factory.ClientForAsync(first);
        using var secondClient = await factory.ClientForAsync(second);
        using var adminClient = await factory.ClientForAsync(admin);
        (await firstClient.CompleteAsync(big, Images.Screenshot())).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await firstClient.CompleteAsync(small, Images.Screenshot())).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await secondClient.CompleteAsync(big, Images.Screenshot())).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await adminClient.PutAsync("/api/v1/admin/settings/rewards.require_review",
            new StringContent("""{"value":1}""", System.Text.Encoding.UTF8, "application/json"), Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await secondClient.CompleteAsync(small, Images.Screenshot())).StatusCode.ShouldBe(HttpStatusCode.Created);
        var names = await factory.DbAsync(db => db.Set<App>().Where(a => a.Id == big || a.Id == small).ToDictionaryAsync(a => a.Id, a => a.Name, Ct));
        var users = await factory.DbAsync(db => db.Set<User>().CountAsync(Ct));
        var activeApps = await factory.DbAsync(db => db.Set<App>().CountAsync(a => a.IsActive && a.DeletedAt == null, Ct));
        var today = factory.Clock.GetUtcNow().UtcDateTime.Date;
        var signUpsToday = await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.CreatedAt >= today, Ct));
        var points = await factory.DbAsync(db => db.Set<PointEntry>().SumAsync(e => e.Amount, Ct));

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin");

        var page = browser.Page;
        await Expect(page.GetByTestId("stat-users")).ToHaveTextAsync(users.ToString("N0", CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("stat-apps")).ToHaveTextAsync(activeApps.ToString(CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("stat-pending")).ToHaveTextAsync("1");
        await Expect(page.GetByTestId("stat-approved")).ToHaveTextAsync("3");
        await Expect(page.GetByTestId("stat-rejected")).ToHaveTextAsync("0");
        points.ShouldBe(27);
        await Expect(page.GetByTestId("stat-points")).ToHaveTextAsync("27");
        await Expect(page.GetByTestId("oldest-pending")).ToContainTextAsync($"of {names[small]} by {second.UserName}");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Open the review queue" })).ToHaveAttributeAsync("href", "/admin/review");

        var day = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await page.GetByText("Show data").First.ClickAsync();
        var completions = page.GetByRole(AriaRole.Table, new() { Name = "Completions per day, last 30 days" });
        await Expect(completions.GetByRole(AriaRole.Row)).ToHaveCountAsync(31);
        await Expect(completions.GetByRole(AriaRole.Row, new() { Name = day })).ToHaveTextAsync($"{day}4");
        await Expect(page.Locator("#completions-chart-table tbody tr").First)
            .ToHaveTextAsync($"{today.AddDays(-29):yyyy-MM-dd}0");
        await page.GetByText("Show data").Nth(1).ClickAsync();
        var signUps = page.GetByRole(AriaRole.Table, new() { Name = "Sign-ups per day, last 30 days" });
        await Expect(signUps.GetByRole(AriaRole.Row, new() { Name = day })).ToHaveTextAsync($"{day}{signUpsToday}");
        await page.GetByText("Show data").Nth(2).ClickAsync();
        var perApp = page.GetByRole(AriaRole.Table, new() { Name = "Points awarded per app, top 10" });
        await Expect(perApp.GetByRole(AriaRole.Row)).ToHaveCountAsync(3);
        await Expect(perApp.GetByRole(AriaRole.Row).Nth(1)).ToHaveTextAsync($"{names[big]}20");
        await Expect(perApp.GetByRole(AriaRole.Row).Nth(2)).ToHaveTextAsync($"{names[small]}7");
        await Expect(page.Locator("svg.chart rect.bar title").First).ToHaveTextAsync($"{today.AddDays(-29):yyyy-MM-dd}: 0 completions");
        await browser.AssertAccessibleAsync();

        // A user's page lists their completions and ledger.
        await browser.GotoAsync($"/admin/users/{first.Id}");
        var theirCompletions = page.GetByRole(AriaRole.Table, new() { Name = $"Completions of {first.UserName}, newest first" });
        await Expect(theirCompletions.GetByRole(AriaRole.Row)).ToHaveCountAsync(3);
        await Expect(theirCompletions.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync(names[small]);
        var ledger = page.GetByRole(AriaRole.Table, new() { Name = $"Ledger of {first.UserName}, newest first" });
        await Expect(ledger.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Cell).First).ToHaveTextAsync("+7");
        await Expect(ledger.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("completion");
        await Expect(ledger.GetByRole(AriaRole.Row).Nth(2).GetByRole(AriaRole.Cell).First).ToHaveTextAsync("+10");
        await browser.AssertAccessibleAsync();

        // At phone width the dashboard still renders without problems.
        await page.SetViewportSizeAsync(375, 800);
        await browser.GotoAsync("/admin");
        await Expect(page.GetByTestId("stat-pending")).ToHaveTextAsync("1");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }
}
