using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// Every request, but health and metrics, is counted in the fixed windows of its caller's policy (<c>admin</c> or
/// <c>user</c> per signed-in account, <c>anonymous</c> per client address; each per window and, as <c>NAME-hour</c>,
/// per clock hour), an upload route's body in the caller's <c>upload-bytes</c> budget, and a route's own stricter limits
/// (<see cref="EndpointRateLimit"/>) per address. All of a request's windows are counted at once by
/// <see cref="WindowCounters"/> (in Redis when configured); its response carries the IETF <c>RateLimit-Policy</c>
/// (every window) and <c>RateLimit</c> (the request window closest to its limit, and the byte budget on uploads) fields
/// (draft-ietf-httpapi-ratelimit-headers). <see cref="RateLimitGate"/> asks it for every request and answers a refusal.
/// </summary>
internal sealed class RouteRateLimiter(IOptions<RateLimitOptions> options, WindowCounters counters, IEnumerable<EndpointRateLimit> endpointLimits)
{
    /// <summary>The item a rejected request's policy name is kept under, for the 429 body and the metric.</summary>
    public const string PolicyItem = "aap.rate-limit.policy";

    public const string UploadBytesPolicy = "upload-bytes";

    private readonly Dictionary<string, EndpointRateLimit> _endpointLimits = endpointLimits.ToDictionary(l => l.Name, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Endpoint, RouteLimits> _routes = new();
    // The settings are fixed for the process (IOptions): the caller policies' names and fields are made once.
    private readonly CallerPolicySet _callerPolicies = CallerPolicySet.Of(options.Value);

    public static bool IsExempt(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    /// <summary>An upload route: one that declares 413 for a body too large (every multipart upload does, through <c>ReadsMultipartUpload</c>).</summary>
    public static bool IsUpload(Endpoint endpoint) =>
        endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Any(p => p.StatusCode == StatusCodes.Status413PayloadTooLarge);

    /// <summary>The stricter limits declared on <paramref name="endpoint"/>.</summary>
    public IReadOnlyList<EndpointRateLimit> LimitsOf(Endpoint endpoint) => Route(endpoint).Limits;

    /// <summary>
    /// Counts <paramref name="context"/>'s request in all its windows and writes its <c>RateLimit</c> fields: null when
    /// it is admitted (and charged), else the refusal (nothing charged). With the windows in memory this completes
    /// synchronously; with Redis it is one round trip.
    /// </summary>
    public ValueTask<RateLimitRefusal?> CheckAsync(HttpContext context)
    {
        var settings = options.Value;
        if (IsExempt(context.Request.Path))
        {
            return ValueTask.FromResult<RateLimitRefusal?>(null);
        }

        var route = context.GetEndpoint() is { } endpoint ? Route(endpoint) : RouteLimits.None;
        if (!settings.Enabled && route.Limits.Count == 0)
        {
            return ValueTask.FromResult<RateLimitRefusal?>(null);
        }

        CallerPolicy? callerPolicy = null;
        string? caller = null;
        var count = route.Limits.Count;
        if (settings.Enabled)
        {
            (callerPolicy, caller) = PolicyOf(context, _callerPolicies);
            count += callerPolicy.Windows + (route.IsUpload && settings.UploadBytes.Limit > 0 ? 1 : 0);
        }

        // The client address is wanted for anonymous callers and a route's own limits only.
        var address = caller is null || route.Limits.Count > 0 ? AddressKey(context.Connection.RemoteIpAddress) : null;
        caller ??= address!;
        var held = new InlineArray8<WindowCharge>();
        Span<WindowCharge> charges = count <= WindowCounters.HeldOnStack ? held[..count] : new WindowCharge[count];
        var next = 0;
        var bytesWindow = -1;
        var chargedLater = false;
        if (callerPolicy is not null)
        {
            var policy = callerPolicy.Options;
            charges[next++] = new WindowCharge(callerPolicy.Name, caller, 1, policy.PermitLimit, policy.WindowSeconds);
            if (policy.PerHour > 0)
            {
                charges[next++] = new WindowCharge(callerPolicy.HourName, caller, 1, policy.PerHour, 3600);
            }

            if (route.IsUpload && settings.UploadBytes.Limit > 0)
            {
                var length = context.Request.ContentLength;
                chargedLater = length is null;
                bytesWindow = next;
                charges[next++] = new WindowCharge(UploadBytesPolicy, caller, Math.Max(0, length ?? 0), settings.UploadBytes.Limit, settings.UploadBytes.WindowSeconds);
            }
        }

        var firstRouteLimit = next;
        foreach (var limit in route.Limits)
        {
            charges[next++] = new WindowCharge(limit.Name, address!, 1, limit.PermitLimit, limit.WindowSeconds);
        }

        var decision = new Decision(callerPolicy, bytesWindow, chargedLater, firstRouteLimit, route);
        if (!counters.Shared)
        {
            // In memory: counted synchronously, every window on the stack.
            Span<WindowCount> counts = count <= WindowCounters.HeldOnStack ? stackalloc WindowCount[count] : new WindowCount[count];
            return ValueTask.FromResult(Decide(context, counters.TakeInMemory(charges, counts), charges, counts, decision));
        }

        return DecideLaterAsync(context, charges.ToArray(), decision);
    }

    private async ValueTask<RateLimitRefusal?> DecideLaterAsync(HttpContext context, WindowCharge[] charges, Decision decision)
    {
        var counts = new WindowCount[charges.Length];
        var admitted = await counters.TakeAsync(charges, counts);
        return Decide(context, admitted, charges, counts, decision);
    }

    private RateLimitRefusal? Decide(HttpContext context, bool admitted, ReadOnlySpan<WindowCharge> charges, ReadOnlySpan<WindowCount> counts, Decision decision)
    {
        // The caller's own windows alone (most requests): their RateLimit-Policy field is the same every time.
        var policyField = decision.CallerPolicy is { } callerPolicy && charges.Length == callerPolicy.Windows ? callerPolicy.PolicyField : null;
        WriteHeaders(context.Response.Headers, charges, counts, decision.BytesWindow, policyField);
        if (admitted)
        {
            if (decision.ChargedLater && decision.BytesWindow >= 0)
            {
                ChargeWhatWasSent(context, charges[decision.BytesWindow]);
            }

            return null;
        }

        // The window that decides is the one that stays full longest: the request cannot pass before it resets.
        var deciding = -1;
        for (var i = 0; i < charges.Length; i++)
        {
            if (counts[i].Full && (deciding < 0 || counts[i].ResetSeconds > counts[deciding].ResetSeconds))
            {
                deciding = i;
            }
        }

        var refusal = deciding >= decision.FirstRouteLimit ? decision.Route.Limits[deciding - decision.FirstRouteLimit].Refusal : null;
        return new RateLimitRefusal(charges[deciding].Policy, Math.Max(1, counts[deciding].ResetSeconds), refusal);
    }

    private static void WriteHeaders(IHeaderDictionary headers, ReadOnlySpan<WindowCharge> charges, ReadOnlySpan<WindowCount> counts, int bytesWindow, string? policyField)
    {
        var closest = -1;
        for (var i = 0; i < charges.Length; i++)
        {
            if (i != bytesWindow && (closest < 0 || Remaining(charges[i], counts[i]) < Remaining(charges[closest], counts[closest]) ||
                                     (Remaining(charges[i], counts[i]) == Remaining(charges[closest], counts[closest]) && counts[i].ResetSeconds > counts[closest].ResetSeconds)))
            {
                closest = i;
            }
        }

        headers["RateLimit-Policy"] = policyField ?? PolicyField(charges);
        var state = string.Create(CultureInfo.InvariantCulture, $"\"{charges[closest].Policy}\";r={Remaining(charges[closest], counts[closest])};t={counts[closest].ResetSeconds}");
        headers["RateLimit"] = bytesWindow < 0
            ? state
            : string.Create(CultureInfo.InvariantCulture, $"{state}, \"{charges[bytesWindow].Policy}\";r={Remaining(charges[bytesWindow], counts[bytesWindow])};t={counts[bytesWindow].ResetSeconds}");
    }

    /// <summary>The <c>RateLimit-Policy</c> field of <paramref name="charges"/>: every window with its quota and length.</summary>
    private static string PolicyField(ReadOnlySpan<WindowCharge> charges)
    {
        var policies = new StringBuilder();
        foreach (var charge in charges)
        {
            policies.Append(policies.Length == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"\"{charge.Policy}\";q={charge.Limit};w={charge.WindowSeconds}");
        }

        return policies.ToString();
    }

    private static long Remaining(WindowCharge charge, WindowCount count) => Math.Max(0, charge.Limit - count.Used);

    // A body without Content-Length (chunked) passes on what the budget holds and is charged what it sent, once sent.
    private void ChargeWhatWasSent(HttpContext context, WindowCharge charge)
    {
        var counting = new CountingStream(context.Request.Body);
        context.Request.Body = counting;
        context.Response.OnCompleted(async () =>
        {
            if (counting.BytesRead > 0)
            {
                await counters.TakeAsync([charge with { Cost = counting.BytesRead, Limit = long.MaxValue }], new WindowCount[1]);
            }
        });
    }

    private RouteLimits Route(Endpoint endpoint) => _routes.GetOrAdd(endpoint, e => new RouteLimits(
        e.Metadata.OfType<EnableRateLimitingAttribute>().Select(a => a.PolicyName).OfType<string>().Distinct(StringComparer.Ordinal)
            .Select(n => _endpointLimits.GetValueOrDefault(n)).OfType<EndpointRateLimit>().ToList(),
        IsUpload(e)));

    /// <summary>A signed-in caller's policy and account; an anonymous caller's policy and no caller (its address counts).</summary>
    private static (CallerPolicy Policy, string? Caller) PolicyOf(HttpContext context, CallerPolicySet policies)
    {
        if (context.User.FindFirst(Caller.SubjectClaim)?.Value is { Length: > 0 } subject)
        {
            return context.User.IsInRole(Roles.Admin) ? (policies.Admin, subject) : (policies.User, subject);
        }

        return (policies.Anonymous, null);
    }

    private sealed record CallerPolicySet(CallerPolicy Admin, CallerPolicy User, CallerPolicy Anonymous)
    {
        public static CallerPolicySet Of(RateLimitOptions settings) =>
            new(new("admin", settings.Admin), new("user", settings.User), new("anonymous", settings.Anonymous));
    }

    /// <summary>A caller policy's window names, how many windows it counts, and its <c>RateLimit-Policy</c> field alone.</summary>
    private sealed class CallerPolicy
    {
        public CallerPolicy(string name, RateLimitPolicyOptions options)
        {
            Name = name;
            HourName = name + "-hour";
            Options = options;
            List<WindowCharge> windows = [new(name, "", 1, options.PermitLimit, options.WindowSeconds)];
            if (options.PerHour > 0)
            {
                windows.Add(new(HourName, "", 1, options.PerHour, 3600));
            }

            Windows = windows.Count;
            PolicyField = RouteRateLimiter.PolicyField(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(windows));
        }

        public string Name { get; }

        public string HourName { get; }

        public RateLimitPolicyOptions Options { get; }

        public int Windows { get; }

        public string PolicyField { get; }
    }

    // The last address this thread keyed, and its key: a connection's requests carry the same address object, and a
    // dual-mode socket's IPv4 client (::ffff:a.b.c.d) would otherwise be mapped and formatted again at every request.
    [ThreadStatic]
    private static IPAddress? t_lastAddress;

    [ThreadStatic]
    private static string? t_lastKey;

    /// <summary>An IPv6 client is one /64 (one host can hold a whole /64); an IPv4 client is its address.</summary>
    private static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (ReferenceEquals(address, t_lastAddress) && t_lastKey is { } known)
        {
            return known;
        }

        var key = KeyOf(address);
        t_lastAddress = address;
        t_lastKey = key;
        return key;
    }

    private static string KeyOf(IPAddress address)
    {
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

    /// <summary>What deciding on a request's counts needs besides them: where its windows are among its charges.</summary>
    private readonly record struct Decision(CallerPolicy? CallerPolicy, int BytesWindow, bool ChargedLater, int FirstRouteLimit, RouteLimits Route);

    private sealed record RouteLimits(IReadOnlyList<EndpointRateLimit> Limits, bool IsUpload)
    {
        public static readonly RouteLimits None = new([], false);
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}
