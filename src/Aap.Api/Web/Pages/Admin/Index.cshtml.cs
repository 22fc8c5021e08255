using System.Globalization;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin;

/// <summary>
/// <c>/admin</c>: the dashboard. Every figure is aggregated by the database (<see cref="AccountService.OverviewAsync"/>,
/// <see cref="RewardsService.OverviewAsync"/>) and the figures are kept per node by <see cref="DashboardFigures"/>:
/// served as they are for 30 s, then served while one background refresh recomputes them, never older than 60 s. A
/// figure may be that much behind, which a dashboard can afford; a busy admin panel costs one set of queries per
/// period, and no admin waits for them but the node's first. The response's <c>Server-Timing</c> header says how long
/// the shown figures took to compute (<c>figures</c>) and how old they are (<c>figures-age</c>), for bench/http.sh.
/// </summary>
internal sealed class IndexModel(DashboardFigures figures, TimeProvider clock) : PageModel
{
    public const int Days = 30;
    public const int TopApps = 10;

    public Dashboard Data { get; private set; } = null!;

    /// <summary>Whether the figures shown are older than <see cref="DashboardFigures.FreshFor"/> (new ones are being computed).</summary>
    public bool Refreshing { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var (snapshot, stale) = await figures.GetAsync(cancellationToken);
        Data = snapshot.Value;
        Refreshing = stale;
        var age = clock.GetUtcNow() - snapshot.ComputedAt;
        Response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture,
            $"figures;dur={snapshot.Took.TotalMilliseconds:0.0};desc=\"computing the figures\", figures-age;dur={Math.Max(0, age.TotalMilliseconds):0};desc=\"age of the figures\"");
    }

    /// <summary>Computes every figure of the dashboard with the services of <paramref name="services"/> (a scope of its own).</summary>
    internal static async Task<Dashboard> LoadAsync(IServiceProvider services, DateTime now, CancellationToken cancellationToken)
    {
        var accounts = services.GetRequiredService<AccountService>();
        var rewards = services.GetRequiredService<RewardsService>();
        var catalog = services.GetRequiredService<AppsCatalog>();
        var first = DateOnly.FromDateTime(now).AddDays(-(Days - 1));
        var since = first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var people = await accounts.OverviewAsync(since, cancellationToken);
        var points = await rewards.OverviewAsync(since, TopApps, cancellationToken);
        // The catalog is small and cached by the apps feature; its active list is what users see.
        var activeApps = (await catalog.ListActiveAsync(cancellationToken)).Count;
        var names = await catalog.NamesAsync([.. points.TopApps.Select(a => a.AppId)], cancellationToken);
        var days = Enumerable.Range(0, Days).Select(first.AddDays).ToList();
        return new Dashboard(
            people, points, activeApps,
            [.. days.Select(d => new Bar(Label(d), points.CompletionsPerDay.GetValueOrDefault(d)))],
            [.. days.Select(d => new Bar(Label(d), people.SignUpsPerDay.GetValueOrDefault(d)))],
            [.. points.TopApps.Select(a => new Bar(names.GetValueOrDefault(a.AppId) ?? $"App {a.AppId}", a.Points))],
            now);
    }

    private static string Label(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal sealed record Bar(string Label, long Value);

    internal sealed record Dashboard(
        AccountsOverview People, RewardsOverview Points, int ActiveApps,
        IReadOnlyList<Bar> CompletionsPerDay, IReadOnlyList<Bar> SignUpsPerDay, IReadOnlyList<Bar> PointsPerApp, DateTime ComputedAt);
}
