using System.Net;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;

namespace Aap.Api.Tests.Platform.RateLimiting;

/// <summary>
/// With <c>Redis:Configuration</c> set, every node counts in Redis: a limit holds across the nodes, not once per
/// node. When Redis goes away each node falls back to its own counters (limited per node, a warning and
/// <c>aap_redis_failures_total</c>), never to an error or to no limit, and shares again once Redis is back.
/// </summary>
public sealed class SharedRateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly IPAddress Caller = IPAddress.Parse("127.0.0.7");

    [Fact]
    public async Task Two_nodes_on_one_redis_share_one_limit_per_address()
    {
        var prefix = RedisServer.UniquePrefix();
        await using var first = await NodeAsync(RedisServer.Configuration, prefix, ("RateLimits:Anonymous:PermitLimit", "4"));
        await using var second = await NodeAsync(RedisServer.Configuration, prefix, ("RateLimits:Anonymous:PermitLimit", "4"));
        using var a = first.ClientFrom(Caller);
        using var b = second.ClientFrom(Caller);

        var statuses = new List<HttpStatusCode>();
        var remaining = new List<string>();
        foreach (var client in new[] { a, b, a, b, a, b })
        {
            using var response = await client.GetAsync("/api/v1/status", Ct);
            statuses.Add(response.StatusCode);
            remaining.Add(string.Join(", ", response.Headers.GetValues("RateLimit")));
        }

        statuses.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]);
        remaining.Take(4).ShouldBe(["\"anonymous\";r=3;t=60", "\"anonymous\";r=2;t=60", "\"anonymous\";r=1;t=60", "\"anonymous\";r=0;t=60"], "one count across both nodes");
        (await MetricsTests.ScrapeAsync(first)).Sum("aap_redis_failures_total", ("operation", "rate_limit")).ShouldBe(0, "every count went to Redis");
    }

    [Fact]
    public async Task Two_nodes_on_postgres_and_redis_share_one_limit_per_user()
    {
        var prefix = RedisServer.UniquePrefix();
        await using var first = new PostgresFactory();
        first.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", prefix).With("RateLimits:User:PermitLimit", "3");
        await first.InitializeAsync();
        await using var second = PostgresFactory.AnotherNodeOf(first);
        second.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", prefix).With("RateLimits:User:PermitLimit", "3");
        await second.InitializeAsync();
        var alice = await first.RegisterAsync();
        using var onFirst = await first.ClientForAsync(alice);
        using var onSecond = await second.ClientForAsync(alice);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { onSecond, onFirst, onSecond, onFirst })
        {
            using var response = await client.GetAsync("/api/v1/me", Ct);
            statuses.Add(response.StatusCode);
        }

        statuses.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
    }

    [Fact]
    public async Task Redis_stopped_mid_run_limits_each_node_on_its_own_then_shares_again_once_back()
    {
        await using var redis = await PrivateRedis.StartAsync();
        var prefix = RedisServer.UniquePrefix();
        await using var first = await NodeAsync(redis.Configuration, prefix, ("RateLimits:Anonymous:PermitLimit", "3"));
        await using var second = await NodeAsync(redis.Configuration, prefix, ("RateLimits:Anonymous:PermitLimit", "3"));
        using var a = first.ClientFrom(Caller);
        using var b = second.ClientFrom(Caller);

        var shared = await StatusesAsync(a, b, a, b);

        await redis.StopAsync();
        var alone = await StatusesAsync(a, a, a, a, b, b, b, b);
        var failures = (await MetricsTests.ScrapeAsync(first)).Sum("aap_redis_failures_total", ("operation", "rate_limit"));

        await redis.StartAgainAsync();
        await WaitUntilConnectedAsync(first);
        await WaitUntilConnectedAsync(second);
        var again = await StatusesAsync(b, a, b, a);

        shared.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
        alone.ShouldBe([
            HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests,
            HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests,
        ], "each node counts on its own, and still limits");
        failures.ShouldBeGreaterThanOrEqualTo(4, "every request counted without Redis is a failure of the rate_limit operation");
        again.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], "one count again (the restarted Redis is empty)");

        await first.DisposeLoggingAsync();
        LogFiles.ReadAll(first.DataDirectory).ShouldContain(line =>
            line.Contains("\"@l\":\"Warning\"", StringComparison.Ordinal) && line.Contains("\"Operation\":\"rate_limit\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_sign_in_limit_is_shared_by_the_nodes_too()
    {
        var prefix = RedisServer.UniquePrefix();
        await using var first = await NodeAsync(RedisServer.Configuration, prefix, ("Auth:RateLimitPermits", "2"));
        await using var second = await NodeAsync(RedisServer.Configuration, prefix, ("Auth:RateLimitPermits", "2"));
        using var a = first.ClientFrom(Caller);
        using var b = second.ClientFrom(Caller);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { a, b, a })
        {
            using var response = await client.PostJsonAsync("/api/v1/auth/login", new { login = "nobody", password = "whatever it is" });
            statuses.Add(response.StatusCode);
        }

        statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]);
    }

    private static async Task<List<HttpStatusCode>> StatusesAsync(params HttpClient[] clients)
    {
        var statuses = new List<HttpStatusCode>();
        foreach (var client in clients)
        {
            using var response = await client.GetAsync("/api/v1/status", Ct);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    private static async Task<SqliteFactory> NodeAsync(string redis, string prefix, params (string Key, string Value)[] settings)
    {
        var host = new SqliteFactory();
        host.With("Redis:Configuration", redis).With("Redis:KeyPrefix", prefix);
        foreach (var (key, value) in settings)
        {
            host.With(key, value);
        }

        await host.InitializeAsync();
        return host;
    }

    // The node reconnects by itself (StackExchange.Redis retries in the background): readiness says when it has.
    private static async Task WaitUntilConnectedAsync(AapFactory host)
    {
        using var client = host.Client();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? state;
        do
        {
            await Task.Delay(100, Ct);
            using var response = await client.GetAsync("/health/ready", Ct);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            state = body.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString();
        }
        while (state != "Healthy" && DateTime.UtcNow < deadline);

        state.ShouldBe("Healthy");
    }
}
