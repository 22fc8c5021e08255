using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Web.Pages.Admin;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Web.Admin;

/// <summary>
/// <c>/admin</c> over plain HTTP, signed in through the sign-in form: the completions-per-day chart (completion_days,
/// kept by triggers since migration 0018), the counts by status, points issued and the accounts' totals match direct counts after
/// completions, reviews, a deletion through the API, SQL by hand and a deleted user; and the figures are served stale
/// for at most <see cref="DashboardFigures.MaxAge"/> while one background refresh recomputes them.
/// </summary>
public abstract partial class DashboardFiguresTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A host of its own per test: the figures are kept per node.</summary>
    protected abstract AapFactory NewFactory();

    [Fact]
    public async Task The_chart_and_the_totals_match_direct_counts_after_completions_reviews_and_deletions()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var admin = await factory.CreateAdminAsync();
        var first = await factory.AddAppAsync(points: 10);
        var second = await factory.AddAppAsync(points: 7);
        using (var settings = await factory.ClientForAsync(admin))
        using (var review = await settings.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = 1 }, Ct))
        {
            review.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var users = new List<TestAccount>();
        var ids = new List<long>();
        foreach (var app in new[] { first, first, first, second, second })
        {
            var user = await factory.RegisterAsync();
            users.Add(user);
            using var client = await factory.ClientForAsync(user);
            using var complete = await client.CompleteAsync(app, Images.Screenshot());
            complete.StatusCode.ShouldBe(HttpStatusCode.Created);
            ids.Add((await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64());
        }

        await ShowsDirectCountsAsync(factory, admin);

        // A new client: the clock moved past the access token's lifetime.
        using var adminApi = await factory.ClientForAsync(admin);
        (await adminApi.PostAsync($"/api/v1/admin/completions/{ids[0]}/approve", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await adminApi.PostAsync($"/api/v1/admin/completions/{ids[3]}/approve", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await adminApi.PostAsJsonAsync($"/api/v1/admin/completions/{ids[1]}/reject", new { reason = "Wrong app" }, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await adminApi.DeleteAsync($"/api/v1/admin/completions/{ids[2]}", Ct)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await adminApi.DeleteAsync($"/api/v1/apps/{second}", Ct)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        // SQL by hand: one completion moves three days back, another to the other app; then a user is deleted (the
        // database deletes their completions by cascade).
        await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.Id == ids[3])
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.CreatedAt, c => c.CreatedAt.AddDays(-3)), Ct));
        await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.Id == ids[0])
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.AppId, second), Ct));
        var deleted = users[4].Id;
        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == deleted).ExecuteDeleteAsync(Ct));
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == deleted, Ct))).ShouldBe(0);

        var chart = await ShowsDirectCountsAsync(factory, admin);
        var today = factory.Clock.GetUtcNow().UtcDateTime.Date;
        chart[today.AddDays(-3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)].ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task Figures_are_served_stale_while_one_refresh_recomputes_them_and_never_past_the_bound()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var admin = await factory.CreateAdminAsync();
        var app = await factory.AddAppAsync(points: 5);
        var figures = factory.Services.GetRequiredService<DashboardFigures>();
        // Past the bound: this render waits for new figures.
        factory.Clock.Advance(DashboardFigures.MaxAge);
        var (html, timing) = await RenderAsync(factory, admin);
        var seen = Stat(html, "stat-approved");
        seen.ShouldBe(await ApprovedAsync(factory));
        timing.ShouldContain("figures-age;dur=0;");
        html.ShouldNotContain("newer ones are being computed");

        using (var user = await factory.ClientForAsync(await factory.RegisterAsync()))
        using (var complete = await user.CompleteAsync(app, Images.Screenshot()))
        {
            complete.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (await ApprovedAsync(factory)).ShouldBe(seen + 1);

        // Fresh: served as they are, nothing recomputed.
        factory.Clock.Advance(DashboardFigures.FreshFor - TimeSpan.FromSeconds(1));
        (html, _) = await RenderAsync(factory, admin);
        Stat(html, "stat-approved").ShouldBe(seen);
        figures.Refreshing.ShouldBeNull();

        // Stale: still served at once, with a note, and one refresh starts; once it is done the new figures show.
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        (html, timing) = await RenderAsync(factory, admin);
        Stat(html, "stat-approved").ShouldBe(seen);
        html.ShouldContain("newer ones are being computed");
        timing.ShouldContain($"figures-age;dur={(DashboardFigures.FreshFor + TimeSpan.FromSeconds(1)).TotalMilliseconds:0};");
        await (figures.Refreshing ?? Task.CompletedTask);
        (html, timing) = await RenderAsync(factory, admin);
        Stat(html, "stat-approved").ShouldBe(seen + 1);
        html.ShouldNotContain("newer ones are being computed");
        timing.ShouldMatch("^figures;dur=[0-9]+\\.[0-9];");

        // Past the bound again after a change: the render waits for the new figures rather than show older ones.
        using (var user = await factory.ClientForAsync(await factory.RegisterAsync()))
        using (var complete = await user.CompleteAsync(app, Images.Screenshot()))
        {
            complete.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        factory.Clock.Advance(DashboardFigures.MaxAge);
        (html, _) = await RenderAsync(factory, admin);
        Stat(html, "stat-approved").ShouldBe(seen + 2);
        html.ShouldNotContain("newer ones are being computed");
    }

    private static Task<int> ApprovedAsync(AapFactory factory) => factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.Status == CompletionStatus.Approved, Ct));

    /// <summary>Renders the dashboard with new figures and checks them against direct counts; returns the chart's days.</summary>
    private static async Task<Dictionary<string, long>> ShowsDirectCountsAsync(AapFactory factory, TestAccount admin)
    {
        factory.Clock.Advance(DashboardFigures.MaxAge);
        var (html, _) = await RenderAsync(factory, admin);
        var chart = ChartRows(html, "completions-chart-table");
        chart.Count.ShouldBe(IndexModel.Days);
        var today = factory.Clock.GetUtcNow().UtcDateTime.Date;
        var since = today.AddDays(-(IndexModel.Days - 1));
        var created = await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.CreatedAt >= since).Select(c => c.CreatedAt).ToListAsync(Ct));
        var counted = created.GroupBy(c => c.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => (long)g.Count());
        chart.Where(d => d.Value > 0).OrderBy(d => d.Key, StringComparer.Ordinal).ShouldBe(counted.OrderBy(d => d.Key, StringComparer.Ordinal));
        var statuses = await factory.DbAsync(db => db.Set<AppCompletion>().GroupBy(c => c.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(Ct));
        int Of(CompletionStatus status) => statuses.Where(s => s.Key == status).Sum(s => s.Count);
        Stat(html, "stat-pending").ShouldBe(Of(CompletionStatus.Pending));
        Stat(html, "stat-approved").ShouldBe(Of(CompletionStatus.Approved));
        Stat(html, "stat-rejected").ShouldBe(Of(CompletionStatus.Rejected));
        Stat(html, "stat-users").ShouldBe(await factory.DbAsync(db => db.Set<User>().CountAsync(Ct)));
        // Points issued (point_totals, kept with the ledger since 0020) is the sum of the balances.
        Stat(html, "stat-points").ShouldBe((int)await factory.DbAsync(db => db.Set<PointBalance>().SumAsync(b => b.Balance, Ct)));
        var active = await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.IsActive, Ct));
        var admins = await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.IsActive && u.Role == "Admin", Ct));
        html.ShouldContain($"users ({active:N0} active, {admins:N0} admins)");
        return chart;
    }

    private static async Task<(string Html, string Timing)> RenderAsync(AapFactory factory, TestAccount admin)
    {
        // Signed in anew each time: the tests move the clock past the access cookie's lifetime.
        var cookie = await SignInAsync(factory, admin);
        using var client = RawPages.Client(factory);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, html);
        return (html, string.Join(", ", response.Headers.GetValues("Server-Timing")));
    }

    internal static int Stat(string html, string testId) =>
        int.Parse(Regex.Match(html, $"data-testid=\"{testId}\">([0-9,]+)<").Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static Dictionary<string, long> ChartRows(string html, string tableId)
    {
        var table = Regex.Match(html, $"<table class=\"data-table\" id=\"{tableId}\">(.*?)</table>", RegexOptions.Singleline).Groups[1].Value;
        return Row().Matches(table).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Signs in through the sign-in form; returns the auth cookies as a Cookie header.</summary>
    internal static async Task<string> SignInAsync(AapFactory factory, TestAccount account)
    {
        using var client = RawPages.Client(factory);
        using var page = await client.GetAsync("/account/sign-in", Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        var token = RawPages.HiddenToken().Match(html).Groups[1].Value;
        token.ShouldNotBeEmpty();
        var antiforgery = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aap_antiforgery=", StringComparison.Ordinal)).Split(';')[0];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/sign-in?returnUrl=%2Fadmin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Login"] = account.UserName!, ["Input.Password"] = account.Password, ["__RequestVerificationToken"] = token,
            }),
        };
        request.Headers.Add("Cookie", antiforgery);
        using var response = await client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => !c.EndsWith('=')));
    }

    [GeneratedRegex("<tr><th scope=\"row\">([0-9-]+)</th><td class=\"num\">([0-9]+)</td></tr>")]
    private static partial Regex Row();

    public sealed class OnSqlite : DashboardFiguresTests
    {
        protected override AapFactory NewFactory() => new PagesFactory();
    }

    public sealed class OnPostgres : DashboardFiguresTests
    {
        protected override AapFactory NewFactory() => PagesFactory.ForPages(new PostgresFactory());
    }
}
