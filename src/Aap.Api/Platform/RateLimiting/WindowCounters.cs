using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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

    /// <summary>True when the windows are counted in Redis (<see cref="TakeAsync"/>, one round trip), false when in this node's memory (<see cref="TakeInMemory"/>).</summary>
    public bool Shared => redis.IsConfigured;

    /// <summary>How many windows of a request are held on the stack (an <see cref="InlineArray8{T}"/>); a request with more goes to the heap.</summary>
    public const int HeldOnStack = 8;

    /// <summary>
    /// Charges every window of <paramref name="charges"/> when all have room and writes what each holds into
    /// <paramref name="counts"/>; true when admitted. In Redis when configured (else, or when it fails, in memory).
    /// </summary>
    public async ValueTask<bool> TakeAsync(WindowCharge[] charges, WindowCount[] counts)
    {
        if (!Shared)
        {
            return TakeInMemory(charges, counts);
        }

        var now = Now();
        var keys = new RedisKey[charges.Length];
        var values = new RedisValue[charges.Length * 3];
        var resets = new int[charges.Length];
        for (var i = 0; i < charges.Length; i++)
        {
            var charge = charges[i];
            var (index, reset) = WindowAt(charge.WindowSeconds, now);
            resets[i] = reset;
            keys[i] = redis.Key($"rl:{charge.Policy}:{charge.Caller}:{index}");
            values[i * 3] = charge.Cost;
            values[i * 3 + 1] = charge.Limit;
            values[i * 3 + 2] = reset * 1000L + 1000; // gone a second after its window, whatever the clocks say
        }

        if (await TakeInRedisAsync(keys, values) is not { } result)
        {
            return TakeInMemory(charges, counts);
        }

        var admitted = (long)result[0] == 1;
        for (var i = 0; i < charges.Length; i++)
        {
            counts[i] = Count(charges[i], (long)result[i + 1], resets[i], admitted);
        }

        return admitted;
    }

    /// <summary>
    /// The same in this node's memory, synchronously and without allocating: <paramref name="counts"/> holds at least
    /// as many entries as <paramref name="charges"/>.
    /// </summary>
    public bool TakeInMemory(ReadOnlySpan<WindowCharge> charges, Span<WindowCount> counts)
    {
        var now = Now();
        Sweep(now);
        var held = new InlineArray8<MemoryWindow?>();
        Span<MemoryWindow?> windows = charges.Length <= HeldOnStack ? held : new MemoryWindow?[charges.Length];
        // A caller's windows are guarded by its stripe's lock. A request may count under two callers (an account and,
        // for a route's own limit, an address): it takes every stripe of its callers, always in ascending order.
        Span<int> stripes = charges.Length <= HeldOnStack ? stackalloc int[charges.Length] : new int[charges.Length];
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
            for (var i = 0; i < charges.Length; i++)
            {
                var (index, reset) = WindowAt(charges[i].WindowSeconds, now);
                var window = Current(charges[i], index);
                windows[i] = window;
                // The reset is kept with the count, which is known once every window has been read.
                counts[i] = new WindowCount(0, reset, false);
                admitted &= window.Used + charges[i].Cost <= charges[i].Limit;
            }

            for (var i = 0; i < charges.Length; i++)
            {
                var window = windows[i]!;
                if (admitted)
                {
                    window.Used += charges[i].Cost;
                }

                counts[i] = Count(charges[i], window.Used, counts[i].ResetSeconds, admitted);
            }

            return admitted;
        }
        finally
        {
            while (locked > 0)
            {
                Monitor.Exit(_stripes[stripes[--locked]]);
            }
        }
    }

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The window of <paramref name="windowSeconds"/> that <paramref name="now"/> falls in, and the whole seconds until it resets.</summary>
    private static (long Index, int ResetSeconds) WindowAt(int windowSeconds, long now)
    {
        var window = windowSeconds * 1000L;
        var index = now / window;
        return (index, (int)Math.Ceiling(((index + 1) * window - now) / 1000.0));
    }

    private static WindowCount Count(WindowCharge charge, long used, int resetSeconds, bool admitted) =>
        new(used, resetSeconds, used + (admitted ? 0 : charge.Cost) > charge.Limit);

    private async ValueTask<RedisResult[]?> TakeInRedisAsync(RedisKey[] keys, RedisValue[] values)
    {
        if (!redis.IsAvailable)
        {
            redis.Failed(RedisOperation);
            return null;
        }

        try
        {
            return (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Script, keys, values))!;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or InvalidCastException)
        {
            redis.Failed(RedisOperation, e);
            return null;
        }
    }

    // The charge's current window, under its caller's stripe lock: a window of an earlier period is replaced.
    private MemoryWindow Current(WindowCharge charge, long index)
    {
        var key = (charge.Policy, charge.Caller);
        if (!_memory.TryGetValue(key, out var window) || window.Index != index)
        {
            window = new MemoryWindow(index, charge.WindowSeconds);
            _memory[key] = window;
        }

        return window;
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
