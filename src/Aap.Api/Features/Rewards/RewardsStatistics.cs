using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// The rewards side of the admin dashboard, each figure aggregated by the database: completions by status, completions
/// per day since a date, points held, points awarded per app (the largest first) and the oldest pending completion.
/// </summary>
[FeatureSurface]
internal sealed record RewardsOverview(
    int Pending, int Approved, int Rejected, long PointsIssued,
    IReadOnlyDictionary<DateOnly, int> CompletionsPerDay, IReadOnlyList<AppPointsTotal> TopApps, CompletionResponse? OldestPending);

/// <summary>The points approved completions of one app have awarded.</summary>
[FeatureSurface]
internal sealed record AppPointsTotal(long AppId, long Points);

internal sealed partial class RewardsService
{
    /// <summary>
    /// The dashboard's figures. Points issued is the sum of the balances: transfers move points between balances, so
    /// the sum is what completions credited minus what reversals took back (and what deleted users held). The database
    /// keeps it with the ledger in 16 parts by user id (point_totals, 0020): 16 rows read instead of every balance.
    /// </summary>
    public async Task<RewardsOverview> OverviewAsync(DateTime since, int topApps, CancellationToken cancellationToken)
    {
        var completions = db.Set<AppCompletion>().AsNoTracking();
        // The totals by status and app are kept by the database (completion_totals, 0014): a few hundred rows.
        var totals = db.Set<CompletionTotal>().AsNoTracking();
        var byStatus = await totals.GroupBy(t => t.Status).Select(g => new { Status = g.Key, Count = g.Sum(t => t.Completions) }).ToListAsync(cancellationToken);
        var issued = await db.Set<PointTotals>().AsNoTracking().SumAsync(s => (long?)s.Points, cancellationToken) ?? 0;
        // The per-day counts are kept by the database too (completion_days, 0018): one row per day and app.
        var first = DateOnly.FromDateTime(since);
        var perDay = (await db.Set<CompletionDay>().AsNoTracking().Where(d => d.Day >= first)
            .GroupBy(d => d.Day).Select(g => new { Day = g.Key, Count = g.Sum(d => d.Completions) })
            .ToListAsync(cancellationToken))
            .Where(d => d.Count > 0).ToDictionary(d => d.Day, d => (int)d.Count);
        var top = await totals.Where(t => t.Status == CompletionStatus.Approved && t.Completions > 0)
            .OrderByDescending(t => t.Points).ThenBy(t => t.AppId).Take(topApps)
            .Select(t => new { t.AppId, t.Points }).ToListAsync(cancellationToken);
        var oldest = await completions.Where(c => c.Status == CompletionStatus.Pending).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id)
            .Select(CompletionResponse.Projection).FirstOrDefaultAsync(cancellationToken);
        int Count(CompletionStatus status) => (int)byStatus.Where(s => s.Status == status).Sum(s => s.Count);
        return new RewardsOverview(
            Count(CompletionStatus.Pending), Count(CompletionStatus.Approved), Count(CompletionStatus.Rejected), issued,
            perDay,
            [.. top.Select(a => new AppPointsTotal(a.AppId, a.Points))],
            oldest is null ? null : (await DescribeAsync([oldest], cancellationToken))[0]);
    }

    /// <summary>A page of one user's ledger, newest first, for admins.</summary>
    public Task<PagedEnvelope<LedgerEntryResponse>> LedgerPageOfAsync(long userId, PageQuery paging, CancellationToken cancellationToken) =>
        db.Set<PointEntry>().AsNoTracking().Where(e => e.UserId == userId).OrderByDescending(e => e.Id)
            .Select(e => new LedgerEntryResponse(e.Id, e.Amount, e.Reason, e.CompletionId, e.TransferId, e.CreatedAt))
            .ToPageDataAsync(paging, cancellationToken);

    /// <summary>A page of one user's completions, newest first, with their app names, for admins.</summary>
    public async Task<PagedEnvelope<CompletionResponse>> CompletionsPageOfAsync(long userId, PageQuery paging, CancellationToken cancellationToken)
    {
        var page = await db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == userId).OrderByDescending(c => c.Id)
            .Select(CompletionResponse.Projection).ToPageDataAsync(paging, cancellationToken);
        return page with { Data = await DescribeAsync(page.Data, cancellationToken) };
    }
}
