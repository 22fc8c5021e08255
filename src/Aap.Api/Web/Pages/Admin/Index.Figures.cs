using System.Diagnostics;
using Aap.Api.Platform.Caching;

namespace Aap.Api.Web.Pages.Admin;

/// <summary>
/// The dashboard's figures of this node, served stale while one background refresh recomputes them
/// (<see cref="KeptValue{T}"/>): figures younger than <see cref="FreshFor"/> are served as they are; older ones are
/// served too, and the first request that finds them so starts a refresh in the background (one at a time), so that no
/// admin waits for the computation after the node's first; figures older than <see cref="MaxAge"/> are never served:
/// that request waits for the refresh (the one under way, or a new one). A refresh that fails is logged and the stale
/// figures are kept (within <see cref="MaxAge"/>); the next request past <see cref="FreshFor"/> tries again.
/// </summary>
internal sealed partial class DashboardFigures
{
    /// <summary>How long figures are served without a refresh.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(30);

    /// <summary>The oldest figures are ever served: past it a request waits for new ones.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private readonly KeptValue<IndexModel.Dashboard> kept;

    public DashboardFigures(IServiceScopeFactory scopes, TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<DashboardFigures> logger) =>
        kept = new(
            async cancellationToken =>
            {
                var watch = Stopwatch.StartNew();
                await using var scope = scopes.CreateAsyncScope();
                var data = await IndexModel.LoadAsync(scope.ServiceProvider, clock.GetUtcNow().UtcDateTime, cancellationToken);
                LogRefreshed(logger, watch.Elapsed.TotalMilliseconds);
                return data;
            },
            // Nothing marks the figures changed: every write of the data they sum would, and they are allowed to lag.
            new KeptValueTimes(FreshFor, MaxAge, AfterChange: FreshFor),
            clock,
            (exception, age) => LogRefreshFailed(logger, exception, age),
            lifetime.ApplicationStopping);

    /// <summary>The refresh under way, if any (tests await it).</summary>
    internal Task? Refreshing => kept.Refreshing;

    /// <summary>The figures to show now (with when their computation started and how long it took), and whether they are older than <see cref="FreshFor"/> (a refresh is then under way).</summary>
    public async Task<(KeptValue<IndexModel.Dashboard>.Kept Figures, bool Stale)> GetAsync(CancellationToken cancellationToken) =>
        await kept.GetAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin dashboard figures computed in {DurationMs:0.0} ms")]
    private static partial void LogRefreshed(ILogger logger, double durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin dashboard figures could not be computed; the figures kept are {Age} old")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, TimeSpan? age);
}
