namespace Aap.Api.Platform.Caching;

/// <summary>When a <see cref="KeptValue{T}"/> is recomputed.</summary>
/// <param name="FreshFor">How long a value is served without a refresh (the bound for writes this node does not see).</param>
/// <param name="MaxAge">The oldest a value is ever served: past it a request waits for a new one.</param>
/// <param name="AfterChange">
/// How soon after the last refresh began a change this node made (<see cref="KeptValue{T}.Changed"/>) starts another:
/// under a stream of writes, one computation per this interval at most.
/// </param>
internal sealed record KeptValueTimes(TimeSpan FreshFor, TimeSpan MaxAge, TimeSpan AfterChange);

/// <summary>
/// A value that is expensive to compute (an aggregate over a large table), kept in this node's memory and served stale
/// while one background refresh recomputes it: a value younger than <see cref="KeptValueTimes.FreshFor"/> is served as
/// it is; an older one, or one this node has changed the data of, is served too, and the request that finds it so starts
/// a refresh in the background (one at a time), so that after the first computation nobody waits for one; a value older
/// than <see cref="KeptValueTimes.MaxAge"/> is never served: that request waits for the refresh. A refresh that fails
/// goes to <c>failed</c> and the value is kept (within <see cref="KeptValueTimes.MaxAge"/>); the next request tries again.
/// </summary>
internal sealed class KeptValue<T>(
    Func<CancellationToken, Task<T>> compute, KeptValueTimes times, TimeProvider clock, Action<Exception, TimeSpan?> failed,
    CancellationToken stopping)
{
    private readonly Lock gate = new();
    private Kept? current;
    private Task<Kept>? refreshing;
    private bool changed;
    private DateTimeOffset lastStarted = DateTimeOffset.MinValue;

    /// <summary>A value, when its computation started and how long it took.</summary>
    internal sealed record Kept(T Value, DateTimeOffset ComputedAt, TimeSpan Took);

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

    /// <summary>This node changed what the value is computed from: the next request starts a refresh (within <see cref="KeptValueTimes.AfterChange"/>).</summary>
    public void Changed()
    {
        lock (gate)
        {
            changed = true;
        }
    }

    /// <summary>The value to serve now, and whether it is stale (a refresh is then under way).</summary>
    public async Task<(Kept Value, bool Stale)> GetAsync(CancellationToken cancellationToken)
    {
        Task<Kept> refresh;
        lock (gate)
        {
            var now = clock.GetUtcNow();
            var age = current is null ? TimeSpan.MaxValue : now - current.ComputedAt;
            if (current is not null && age < times.FreshFor && !(changed && now - lastStarted >= times.AfterChange))
            {
                return (current, false);
            }

            if (refreshing is null)
            {
                changed = false;
                lastStarted = now;
                refreshing = RefreshAsync(now);
                // A refresh nobody waits for fails only into `failed`; this observes its exception.
                _ = refreshing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            refresh = refreshing;
            if (current is not null && age < times.MaxAge)
            {
                return (current, true);
            }
        }

        // Nothing kept yet, or too old to be served: this request waits for the refresh (without cancelling it).
        return (await refresh.WaitAsync(cancellationToken), false);
    }

    private async Task<Kept> RefreshAsync(DateTimeOffset started)
    {
        // Off the request that started it: its cancellation or end must not stop the refresh others wait for.
        await Task.Yield();
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var kept = new Kept(await compute(stopping), started, watch.Elapsed);
            lock (gate)
            {
                current = kept;
                refreshing = null;
            }

            return kept;
        }
        catch (Exception exception)
        {
            lock (gate)
            {
                refreshing = null;
                failed(exception, current is null ? null : clock.GetUtcNow() - current.ComputedAt);
            }

            throw;
        }
    }
}
