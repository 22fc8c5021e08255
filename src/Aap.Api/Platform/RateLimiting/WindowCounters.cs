using System.Collections.Concurrent;
using Aap.Api.Platform.Redis;
using StackExchange.Redis;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>A charge against one fixed window: <paramref name="Cost"/> of <paramref name="Limit"/> for <paramref name="Caller"/> under <paramref name="Policy"/>.</summary>
internal readonly record struct WindowCharge(string Policy, string Caller, long Cost, long Limit, int WindowSeconds);

/// <summary>What a window holds after a request: its count (this request's cost included when admitted) and the seconds to its reset.</summary>
internal readonly record struct WindowCount(long Used, int ResetSeconds, bool Full);

/// <summary>
/// The counters of fixed windows aligned on the application's clock (window <c>n</c> is
/// <c>[n * w, (n + 1) * w)</c>), so that every node, and a test's fake clock, agree on when a window resets. A request
/// is admitted only when every one of its windows has room for its cost, and then all of them are charged; a refused
/// request charges none. With Redis configured every node counts there, in one round trip per request (a Lua script:
/// read, compare, INCRBY and PEXPIRE, atomic); when Redis is unreachable or a command fails or times out, that request
/// is counted in the node's memory instead (per-node limits) and the failure is reported, never an error.
/// </summary>
internal sealed class WindowCounters(RedisConnection redis, TimeProvider clock)
{
    // KEYS: one counter per window. ARGV: per window its cost, limit and time to live (ms).
    // Returns: admitted (1/0), then each window's count.
    private const string Script = """
        local admitted = 1
        local counts = {}
        for i = 1, #KEYS do
          local used = tonumber(redis.call('GET', KEYS[i]) or '0')
          counts[i] = used
          if used + tonumber(ARGV[i * 3 - 2]) > tonumber(ARGV[i * 3 - 1]) then admitted = 0 end
        end
        if admitted == 1 then
          for i = 1, #KEYS do
            counts[i] = redis.call('INCRBY', KEYS[i], ARGV[i * 3 - 2])
            if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[i * 3]) end
          end
        end
        table.insert(counts, 1, admitted)
        return counts
        """;

    public const string RedisOperation = "rate_limit";

    private readonly ConcurrentDictionary<(string Policy, string Caller), MemoryWindow> _memory = new();
    private readonly object[] _stripes = Enumerable.Range(0, 64).Select(_ => new object()).ToArray();
    private long _lastSweepMs;

    /// <summary>Charges every window of <paramref name="charges"/> when all have room; says what each holds.</summary>
    public async ValueTask<(bool Admitted, WindowCount[] Counts)> TakeAsync(IReadOnlyList<WindowCharge> charges)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var indexes = new long[charges.Count];
        var resets = new int[charges.Count];
        for (var i = 0; i < charges.Count; i++)
        {
            var window = charges[i].WindowSeconds * 1000L;
            indexes[i] = now / window;
            resets[i] = (int)Math.Ceiling(((indexes[i] + 1) * window - now) / 1000.0);
        }

        long[] used;
        bool admitted;
        if (redis.IsConfigured && await TakeInRedisAsync(charges, indexes, resets) is { } shared)
        {
            (admitted, used) = shared;
        }
        else
        {
            (admitted, used) = TakeInMemory(charges, indexes, now);
        }

        var counts = new WindowCount[charges.Count];
        for (var i = 0; i < charges.Count; i++)
        {
            counts[i] = new WindowCount(used[i], resets[i], used[i] + (admitted ? 0 : charges[i].Cost) > charges[i].Limit);
        }

        return (admitted, counts);
    }

    private async ValueTask<(bool, long[])?> TakeInRedisAsync(IReadOnlyList<WindowCharge> charges, long[] indexes, int[] resets)
    {
        if (!redis.IsAvailable)
        {
            redis.Failed(RedisOperation);
            return null;
        }

        var keys = new RedisKey[charges.Count];
        var values = new RedisValue[charges.Count * 3];
        for (var i = 0; i < charges.Count; i++)
        {
            var charge = charges[i];
            keys[i] = redis.Key($"rl:{charge.Policy}:{charge.Caller}:{indexes[i]}");
            values[i * 3] = charge.Cost;
            values[i * 3 + 1] = charge.Limit;
            values[i * 3 + 2] = resets[i] * 1000L + 1000; // gone a second after its window, whatever the clocks say
        }

        try
        {
            var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Script, keys, values))!;
            var used = new long[charges.Count];
            for (var i = 0; i < used.Length; i++)
            {
                used[i] = (long)result[i + 1];
            }

            return ((long)result[0] == 1, used);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or InvalidCastException)
        {
            redis.Failed(RedisOperation, e);
            return null;
        }
    }

    private (bool, long[]) TakeInMemory(IReadOnlyList<WindowCharge> charges, long[] indexes, long now)
    {
        Sweep(now);
        var windows = new MemoryWindow[charges.Count];
        var used = new long[charges.Count];
        // A caller's windows are guarded by its stripe's lock. A request may count under two callers (an account and,
        // for a route's own limit, an address): it takes every stripe of its callers, always in ascending order.
        Span<int> stripes = stackalloc int[charges.Count];
        var count = 0;
        foreach (var charge in charges)
        {
            var stripe = (int)((uint)StringComparer.Ordinal.GetHashCode(charge.Caller) % (uint)_stripes.Length);
            var at = stripes[..count].BinarySearch(stripe);
            if (at < 0)
            {
                at = ~at;
                stripes[at..count].CopyTo(stripes[(at + 1)..]);
                stripes[at] = stripe;
                count++;
            }
        }

        var locked = 0;
        try
        {
            for (; locked < count; locked++)
            {
                Monitor.Enter(_stripes[stripes[locked]]);
            }

            var admitted = true;
            for (var i = 0; i < charges.Count; i++)
            {
                var index = indexes[i];
                var seconds = charges[i].WindowSeconds;
                windows[i] = _memory.AddOrUpdate((charges[i].Policy, charges[i].Caller), static (_, at) => new MemoryWindow(at.Index, at.Seconds),
                    static (_, w, at) => w.Index == at.Index ? w : new MemoryWindow(at.Index, at.Seconds), (Index: index, Seconds: seconds));
                used[i] = windows[i].Used;
                admitted &= used[i] + charges[i].Cost <= charges[i].Limit;
            }

            if (admitted)
            {
                for (var i = 0; i < charges.Count; i++)
                {
                    used[i] = windows[i].Used += charges[i].Cost;
                }
            }

            return (admitted, used);
        }
        finally
        {
            while (locked > 0)
            {
                Monitor.Exit(_stripes[stripes[--locked]]);
            }
        }
    }

    // Counters of windows that are over are dropped now and then, so the table holds the current callers only.
    private void Sweep(long now)
    {
        var last = Interlocked.Read(ref _lastSweepMs);
        if (now - last < 60_000 || Interlocked.CompareExchange(ref _lastSweepMs, now, last) != last)
        {
            return;
        }

        foreach (var (key, window) in _memory)
        {
            if ((window.Index + 1) * window.Seconds * 1000L < now)
            {
                _memory.TryRemove(KeyValuePair.Create(key, window));
            }
        }
    }

    private sealed class MemoryWindow(long index, int seconds)
    {
        public long Index { get; } = index;

        public int Seconds { get; } = seconds;

        public long Used { get; set; }
    }
}
