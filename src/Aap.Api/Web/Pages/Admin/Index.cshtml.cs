using System.Globalization;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Caching.Memory;

namespace Aap.Api.Web.Pages.Admin;

/// <summary>
/// <c>/admin</c>: the dashboard. Every figure is aggregated by the database (<see cref="AccountService.OverviewAsync"/>,
/// <see cref="RewardsService.OverviewAsync"/>) and the whole dashboard is cached for <see cref="CacheFor"/>: a figure
/// may be that much behind, which a dashboard can afford, and a busy admin panel costs one set of queries per period.
/// </summary>
internal sealed class IndexModel(AccountService accounts, RewardsService rewards, AppsCatalog catalog, IMemoryCache cache, TimeProvider clock) : PageModel
{
    public const int Days = 30;
    public const int TopApps = 10;
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private const string CacheKey = "admin.dashboard";

    public Dashboard Data { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Data = (await cache.GetOrCreateAsync(CacheKey, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = CacheFor;
            entry.Size = 1;
            return await LoadAsync(cancellationToken);
        }))!;
    }

    private async Task<Dashboard> LoadAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
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
