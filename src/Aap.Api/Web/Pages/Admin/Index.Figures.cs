using System.Diagnostics;

namespace Aap.Api.Web.Pages.Admin;

/// <summary>
/// The dashboard's figures of this node, served stale while one background refresh recomputes them: figures younger
/// than <see cref="FreshFor"/> are served as they are; older ones are served too, and the first request that finds them
/// so starts a refresh in the background (one at a time), so that no admin waits for the computation after the
/// node's first; figures older than <see cref="MaxAge"/> are never served: that request waits for the refresh (the
/// one under way, or a new one). A refresh that fails is logged and the stale figures are kept (within
/// <see cref="MaxAge"/>); the next request past <see cref="FreshFor"/> tries again.
/// </summary>
internal sealed partial class DashboardFigures(IServiceScopeFactory scopes, TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<DashboardFigures> logger)
{
    /// <summary>How long figures are served without a refresh.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(30);

    /// <summary>The oldest figures are ever served: past it a request waits for new ones.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private readonly Lock gate = new();
    private Snapshot? current;
    private Task<Snapshot>? refreshing;

    /// <summary>The figures of a computation, when it started, and how long it took (queries and assembly, not the page).</summary>
    internal sealed record Snapshot(IndexModel.Dashboard Data, DateTimeOffset ComputedAt, TimeSpan Took);

    /// <summary>The refresh under way, if any (tests await it).</summary>
    internal Task? Refreshing
    {
        get
        {
            lock (gate)
            {
                return refreshing;
            }
        }
    }

    /// <summary>The figures to show now, and whether they are older than <see cref="FreshFor"/> (a refresh is then under way).</summary>
    public async Task<(Snapshot Figures, bool Stale)> GetAsync(CancellationToken cancellationToken)
    {
        Task<Snapshot> refresh;
        lock (gate)
        {
            var age = current is null ? TimeSpan.MaxValue : clock.GetUtcNow() - current.ComputedAt;
            if (current is not null && age < FreshFor)
            {
                return (current, false);
            }

            if (refreshing is null)
            {
                refreshing = RefreshAsync();
                // A refresh nobody waits for fails only into the log (RefreshAsync); this observes its exception.
                _ = refreshing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            refresh = refreshing;
            if (current is not null && age < MaxAge)
            {
                return (current, true);
            }
        }

        // No figures yet, or too old to be shown: this request waits for the refresh (without cancelling it).
        return (await refresh.WaitAsync(cancellationToken), false);
    }

    private async Task<Snapshot> RefreshAsync()
    {
        // Off the request that started it: its cancellation or end must not stop the refresh others wait for.
        await Task.Yield();
        try
        {
            var started = clock.GetUtcNow();
            var watch = Stopwatch.StartNew();
            await using var scope = scopes.CreateAsyncScope();
            var data = await IndexModel.LoadAsync(scope.ServiceProvider, started.UtcDateTime, lifetime.ApplicationStopping);
            var snapshot = new Snapshot(data, started, watch.Elapsed);
            LogRefreshed(logger, snapshot.Took.TotalMilliseconds);
            lock (gate)
            {
                current = snapshot;
                refreshing = null;
            }

            return snapshot;
        }
        catch (Exception exception)
        {
            lock (gate)
            {
                refreshing = null;
                LogRefreshFailed(logger, exception, current is null ? null : clock.GetUtcNow() - current.ComputedAt);
            }

            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin dashboard figures computed in {DurationMs:0.0} ms")]
    private static partial void LogRefreshed(ILogger logger, double durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin dashboard figures could not be computed; the figures kept are {Age} old")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, TimeSpan? age);
}
