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
