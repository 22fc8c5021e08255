using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Aap.Api.Platform.Security;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// The global limiter of ASP.NET Core's rate-limiting middleware: every request, but health and metrics, takes a permit
/// of its caller's policy (<c>admin</c> or <c>user</c> per signed-in account, <c>anonymous</c> per client address)
/// in a fixed window aligned on the application's clock, and its response carries the IETF <c>RateLimit-Policy</c>
/// and <c>RateLimit</c> fields (draft-ietf-httpapi-ratelimit-headers). Counts are per node (in memory).
/// </summary>
internal sealed class RouteRateLimiter(IOptions<RateLimitOptions> options, TimeProvider clock) : PartitionedRateLimiter<HttpContext>
{
    /// <summary>The item a rejected request's policy name is kept under, for the 429 body and the metric.</summary>
    public const string PolicyItem = "aap.rate-limit.policy";

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private long _lastSweepMs;

    public static bool IsExempt(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => Acquire(resource, permitCount);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult<RateLimitLease>(Acquire(resource, permitCount));

    private Lease Acquire(HttpContext context, int permitCount)
    {
        var settings = options.Value;
        if (!settings.Enabled || IsExempt(context.Request.Path))
        {
            return Lease.Granted;
        }

        var (name, policy, key) = PolicyOf(context, settings);
        var window = (long)policy.WindowSeconds * 1000;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var index = now / window;
        var resetSeconds = (int)Math.Ceiling(((index + 1) * window - now) / 1000.0);
        Sweep(now);

        var counter = _windows.AddOrUpdate($"{name}|{key}", _ => new Window(index, policy.WindowSeconds), (_, w) => w.Index == index ? w : new Window(index, policy.WindowSeconds));
        var used = counter.Take(permitCount, policy.PermitLimit);
        var headers = context.Response.Headers;
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"{name}\";q={policy.PermitLimit};w={policy.WindowSeconds}");
        headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={Math.Max(0, policy.PermitLimit - used)};t={resetSeconds}");
        if (used <= policy.PermitLimit)
        {
            return Lease.Granted;
        }

        context.Items[PolicyItem] = name;
        return new Lease(false, TimeSpan.FromSeconds(resetSeconds));
    }

    private static (string Name, RateLimitPolicyOptions Policy, string Key) PolicyOf(HttpContext context, RateLimitOptions settings)
    {
        if (context.User.FindFirst(Caller.SubjectClaim)?.Value is { Length: > 0 } subject)
        {
            return context.User.IsInRole(Roles.Admin) ? ("admin", settings.Admin, subject) : ("user", settings.User, subject);
        }

        return ("anonymous", settings.Anonymous, AddressKey(context.Connection.RemoteIpAddress));
    }

    /// <summary>An IPv6 client is one /64 (one host can hold a whole /64); an IPv4 client is its address.</summary>
    private static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !IPAddress.IsLoopback(address))
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes).ToString();
        }

        return address.ToString();
    }

    // Counters of windows that are over are dropped now and then, so the table holds the current callers only.
    private void Sweep(long now)
    {
        var last = Interlocked.Read(ref _lastSweepMs);
        if (now - last < 60_000 || Interlocked.CompareExchange(ref _lastSweepMs, now, last) != last)
        {
            return;
        }

        foreach (var (key, window) in _windows)
        {
            if ((window.Index + 1) * window.Seconds * 1000L < now)
            {
                _windows.TryRemove(new KeyValuePair<string, Window>(key, window));
            }
        }
    }

    private sealed class Window(long index, int seconds)
    {
        private int _used;

        public long Index { get; } = index;

        public int Seconds { get; } = seconds;

        /// <summary>Counts the permits and returns how many this window has handed out, this request's included.</summary>
        public int Take(int permits, int limit)
        {
            // Refused requests are not counted beyond limit + 1, so the count cannot overflow under a flood.
            int current, next;
            do
            {
                current = Volatile.Read(ref _used);
                next = current > limit ? current : current + permits;
            }
            while (Interlocked.CompareExchange(ref _used, next, current) != current);
            return current > limit ? current : next;
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = wait;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
