using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using Aap.Api.Platform.RateLimiting;
using Aap.Api.Platform.Redis;
using Aap.Api.Platform.Security;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aap.Benchmarks;

/// <summary>
/// What the rate limits cost an admitted request with the windows in the node's memory (no Redis): counting it in
/// its caller's windows (the policy's window and its hourly one) and writing its <c>RateLimit-Policy</c> and
/// <c>RateLimit</c> fields. An anonymous caller counts by its address (IPv4, and IPv4 as a dual-mode socket reports
/// it), a signed-in one by its account. The clock moves a millisecond per request, so windows turn over as in a
/// service (one new window per 60,000 requests) and the default quotas, raised to their maximum, are never reached.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RateLimiterBenchmarks : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private RouteRateLimiter _limiter = null!;
    private DefaultHttpContext _anonymous = null!;
    private DefaultHttpContext _mapped = null!;
    private DefaultHttpContext _user = null!;

    [GlobalSetup]
    public void Setup()
    {
        var clock = new SteppingClock();
        var redis = new RedisConnection(Options.Create(new RedisOptions()), NullLogger<RedisConnection>.Instance, clock,
            _services.GetRequiredService<IMeterFactory>());
        var settings = new RateLimitOptions();
        foreach (var policy in new[] { settings.Anonymous, settings.User, settings.Admin })
        {
            policy.PermitLimit = 10_000_000;
            policy.PerHour = 100_000_000;
        }

        _limiter = new RouteRateLimiter(Options.Create(settings), new WindowCounters(redis, clock), []);
        _anonymous = Request(IPAddress.Parse("203.0.113.7"), null);
        _mapped = Request(IPAddress.Parse("::ffff:203.0.113.7"), null);
        _user = Request(IPAddress.Parse("203.0.113.7"),
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(Caller.SubjectClaim, "48213"), new Claim(ClaimTypes.Role, Roles.User)], "Bearer")));
    }

    [Benchmark(Baseline = true)]
    public bool Anonymous() => Admitted(_anonymous);

    [Benchmark]
    public bool AnonymousDualMode() => Admitted(_mapped);

    [Benchmark]
    public bool SignedIn() => Admitted(_user);

    public void Dispose()
    {
        _services.Dispose();
        GC.SuppressFinalize(this);
    }

    // In memory the check completes synchronously; anything else would be a mistake of the set-up.
    private bool Admitted(HttpContext context)
    {
        var check = _limiter.CheckAsync(context);
        return check.IsCompletedSuccessfully ? check.Result is null : throw new InvalidOperationException("The check did not complete synchronously.");
    }

    private static DefaultHttpContext Request(IPAddress address, ClaimsPrincipal? user)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/api/v1/status";
        context.Connection.RemoteIpAddress = address;
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "GET /api/v1/status"));
        if (user is not null)
        {
            context.User = user;
        }

        return context;
    }

    private sealed class SteppingClock : TimeProvider
    {
        private long _ms = DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Increment(ref _ms));
    }
}
