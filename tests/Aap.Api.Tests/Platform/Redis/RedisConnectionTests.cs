using System.Net;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Platform.Redis;

/// <summary>
/// Redis is optional shared state: a node connects without waiting for it, serves while it is down (readiness says
/// Degraded, not Unavailable), shows it in <c>aap_redis_connected</c>, and reconnects by itself.
/// </summary>
public sealed class RedisConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_redis_configured_readiness_lists_it_healthy_and_the_gauge_says_connected()
    {
        await using var host = new SqliteFactory();
        host.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", RedisServer.UniquePrefix());
        await host.InitializeAsync();

        var ready = await host.ReadyAsync();

        ready.Status.ShouldBe(HttpStatusCode.OK);
        ready.Body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString().ShouldBe("Healthy");
        (await MetricsTests.ScrapeAsync(host)).Sum("aap_redis_connected").ShouldBe(1);
    }

    [Fact]
    public async Task Without_redis_readiness_has_no_redis_entry()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();

        var ready = await host.ReadyAsync();

        ready.Status.ShouldBe(HttpStatusCode.OK);
        ready.Body.GetProperty("checks").TryGetProperty("redis", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task A_node_starts_and_serves_while_redis_is_down_and_connects_once_it_is_back()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await redis.StopAsync();
        await using var host = new SqliteFactory();
        host.With("Redis:Configuration", redis.Configuration);
        await host.InitializeAsync();
        var client = host.Client();

        using (var status = await client.GetAsync("/api/v1/status", Ct))
        {
            status.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var down = await host.ReadyAsync();
        down.Status.ShouldBe(HttpStatusCode.OK);
        down.Body.GetProperty("status").GetString().ShouldBe("Degraded");
        down.Body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString().ShouldBe("Degraded");
        (await MetricsTests.ScrapeAsync(host)).Sum("aap_redis_connected").ShouldBe(0);

        await redis.StartAgainAsync();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? state;
        do
        {
            await Task.Delay(100, Ct);
            state = (await host.ReadyAsync()).Body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString();
        }
        while (state != "Healthy" && DateTime.UtcNow < deadline);

        state.ShouldBe("Healthy");
    }

    [Fact]
    public async Task While_redis_is_down_each_degraded_operation_warns_once_per_10_seconds_and_counts_every_failure()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await redis.StopAsync();
        await using var host = new SqliteFactory();
        host.With("Redis:Configuration", redis.Configuration).With("RateLimits:Anonymous:PermitLimit", "100");
        await host.InitializeAsync();
        var client = host.Client();

        async Task BrowseAsync()
        {
            foreach (var path in new[] { "/api/v1/status", "/api/v1/categories", "/api/v1/status", "/api/v1/categories" })
            {
                using var response = await client.GetAsync(path, Ct);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            }
        }

        await BrowseAsync();
        host.Clock.Advance(TimeSpan.FromSeconds(9));
        await BrowseAsync();
        host.Clock.Advance(TimeSpan.FromSeconds(2));
        await BrowseAsync();
        var metrics = await MetricsTests.ScrapeAsync(host);
        await host.DisposeLoggingAsync();

        metrics.Sum("aap_redis_failures_total", ("operation", "rate_limit")).ShouldBeGreaterThanOrEqualTo(12, "every request counted without Redis");
        var warnings = LogFiles.ReadAll(host.DataDirectory)
            .Where(line => line.Contains("\"@l\":\"Warning\"", StringComparison.Ordinal) && line.Contains("\"Operation\":", StringComparison.Ordinal))
            .ToList();
        warnings.Count(line => line.Contains("\"Operation\":\"rate_limit\"", StringComparison.Ordinal)).ShouldBe(2, "once at the first failure, once more 11 s later, not for each request");
        warnings.Count(line => line.Contains("\"Operation\":\"output cache read\"", StringComparison.Ordinal)).ShouldBe(2, "another operation warns on its own, even right after the limiter's warning");
    }

    [Theory]
    [InlineData("Redis:Configuration", ",,,")]
    [InlineData("Redis:KeyPrefix", "has space")]
    [InlineData("Redis:TimeoutMilliseconds", "10")]
    public async Task A_bad_redis_setting_stops_start_up_naming_it(string key, string value)
    {
        await using var host = new SqliteFactory();
        host.With("Redis:Configuration", "127.0.0.1:1").With(key, value);

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain(key);
    }
}
