using Aap.Api.Features.Identity;
using Aap.Api.Platform.Caching;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// The leaderboard of <c>GET /api/v1/leaderboard</c>: users by points earned from completions (reversals deducted),
/// ties to the older account. All time reads the totals the database keeps with the ledger (<c>point_earnings</c>,
/// 0020) on every request. A week or a month (rolling: the last 7 days, the last month) is a sum over the ledger's
/// entries of the period, 0.1 to 0.6 s at a million entries: each is kept in this node's memory, its top
/// <see cref="Kept"/>, and served stale while one background refresh recomputes it (<see cref="KeptValue{T}"/>):
/// at most <see cref="Times"/>' FreshFor old for another node's writes; this node's own credits and reversals start a
/// refresh at the next request, at most one per AfterChange; never older than MaxAge. So an anonymous caller can no
/// longer make the database sum the ledger on every request.
/// </summary>
internal sealed partial class Leaderboards
{
    /// <summary>The most entries a board shows (<c>size</c> 1 to 100): what a kept period holds.</summary>
    public const int Kept = 100;

    public static readonly KeptValueTimes Times = new(FreshFor: TimeSpan.FromSeconds(30), MaxAge: TimeSpan.FromMinutes(2), AfterChange: TimeSpan.FromSeconds(2));

    private readonly IServiceScopeFactory scopes;
    private readonly TimeProvider clock;
    private readonly ILogger<Leaderboards> logger;
    private readonly Dictionary<string, KeptValue<IReadOnlyList<LeaderboardEntry>>> periods;

    public Leaderboards(IServiceScopeFactory scopes, TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<Leaderboards> logger)
    {
        this.scopes = scopes;
        this.clock = clock;
        this.logger = logger;
        periods = new(StringComparer.Ordinal)
        {
            ["week"] = Period("week", now => now.AddDays(-7), lifetime.ApplicationStopping),
            ["month"] = Period("month", now => now.AddMonths(-1), lifetime.ApplicationStopping),
        };
    }

    /// <summary>True for <c>all</c>, <c>week</c> and <c>month</c>.</summary>
    public bool Knows(string period) => period == "all" || periods.ContainsKey(period);

    /// <summary>The kept board of a period (<c>week</c>, <c>month</c>), for tests that await its refresh.</summary>
    internal KeptValue<IReadOnlyList<LeaderboardEntry>> Of(string period) => periods[period];

    /// <summary>The first <paramref name="size"/> entries of a period's board (<c>all</c>, <c>week</c> or <c>month</c>).</summary>
    public async Task<IReadOnlyList<LeaderboardEntry>> TopAsync(string period, int size, AppDbContext db, AccountService accounts, CancellationToken cancellationToken)
    {
        if (!periods.TryGetValue(period, out var kept))
        {
            return await RankAsync(db.Set<PointEarning>().AsNoTracking().Select(e => new Earned { UserId = e.UserId, Points = e.Points }), size, accounts, cancellationToken);
        }

        var board = (await kept.GetAsync(cancellationToken)).Value.Value;
        return board.Count <= size ? board : [.. board.Take(size)];
    }

    /// <summary>This node credited or reversed completion points: the periods are recomputed soon.</summary>
    public void Changed()
    {
        foreach (var kept in periods.Values)
        {
            kept.Changed();
        }
    }

    private KeptValue<IReadOnlyList<LeaderboardEntry>> Period(string name, Func<DateTime, DateTime> since, CancellationToken stopping) =>
        new(async cancellationToken =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var start = since(clock.GetUtcNow().UtcDateTime);
            var earned = scope.ServiceProvider.GetRequiredService<AppDbContext>().Set<PointEntry>().AsNoTracking()
                .Where(e => (e.Reason == LedgerReasons.Completion || e.Reason == LedgerReasons.Reversal) && e.CreatedAt >= start)
                .GroupBy(e => e.UserId)
                .Select(g => new Earned { UserId = g.Key, Points = g.Sum(e => e.Amount) });
            var board = await RankAsync(earned, Kept, scope.ServiceProvider.GetRequiredService<AccountService>(), cancellationToken);
            LogComputed(logger, name, board.Count);
            return board;
        }, Times, clock, (exception, age) => LogFailed(logger, exception, name, age), stopping);

    /// <summary>The top of a board: users above zero, ranked, accounts that no longer exist left out.</summary>
    private static async Task<IReadOnlyList<LeaderboardEntry>> RankAsync(IQueryable<Earned> earned, int size, AccountService accounts, CancellationToken cancellationToken)
    {
        var top = await earned.Where(g => g.Points > 0).OrderByDescending(g => g.Points).ThenBy(g => g.UserId).Take(size).ToListAsync(cancellationToken);
        var names = await accounts.DisplayNamesAsync([.. top.Select(t => t.UserId)], cancellationToken);
        return [.. top.Where(t => names.ContainsKey(t.UserId)).Select((t, i) => new LeaderboardEntry(i + 1, t.UserId, names[t.UserId], t.Points))];
    }

    /// <summary>A user's points on a board; set by member (not a constructor) so that the query can be composed over it.</summary>
    private sealed class Earned
    {
        public long UserId { get; init; }

        public long Points { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Leaderboard of the {Period} computed: {Entries} entries")]
    private static partial void LogComputed(ILogger logger, string period, int entries);

    [LoggerMessage(Level = LogLevel.Error, Message = "The leaderboard of the {Period} could not be computed; the board kept is {Age} old")]
    private static partial void LogFailed(ILogger logger, Exception exception, string period, TimeSpan? age);
}
