using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform.Caching;

/// <summary>
/// With Redis configured, the account cache of <c>/me</c> is evicted on every node over Redis pub/sub, also where no
/// PostgreSQL trigger announces it: two nodes on one SQLite file (a node would otherwise keep the old account for
/// the cache's minute).
/// </summary>
public sealed class ProfileAcrossNodesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_redis_a_profile_changed_on_one_node_is_evicted_from_the_other_nodes_cache_within_a_second()
    {
        var folder = Directory.CreateTempSubdirectory("aap-shared-").FullName;
        var connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "aap.db"), Pooling = true, DefaultTimeout = 30 }.ToString();
        var prefix = RedisServer.UniquePrefix();
        try
        {
            await using var a = new SqliteFactory();
            await using var b = new SqliteFactory();
            foreach (var node in new[] { a, b })
            {
                node.With("ConnectionStrings:Default", connectionString).With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", prefix);
            }

            await a.InitializeAsync();
            await b.InitializeAsync();
            var user = await a.RegisterAsync();
            using var onA = await a.ClientForAsync(user);
            using var onB = await b.ClientForAsync(user);
            (await UserNameAsync(onA)).ShouldBe(user.UserName);
            (await UserNameAsync(onA)).ShouldBe(user.UserName);
            foreach (var node in new[] { a, b })
            {
                var waiting = Stopwatch.StartNew();
                while ((await Observability.MetricsTests.ScrapeAsync(node)).Sum("aap_cache_signals_hearing") != 1 || (await Observability.MetricsTests.ScrapeAsync(node)).Sum("aap_redis_connected") != 1)
                {
                    waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), "a node never subscribed to the signals over Redis");
                    await Task.Delay(TimeSpan.FromMilliseconds(50), Ct);
                }
            }

            var renamed = $"re_{Guid.NewGuid():N}"[..15];
            using (var patch = await onB.PatchAsync("/api/v1/me", JsonBody.Of(JsonSerializer.Serialize(new { username = renamed })), Ct))
            {
                patch.StatusCode.ShouldBe(HttpStatusCode.OK, await patch.Content.ReadAsStringAsync(Ct));
            }

            var changed = Stopwatch.StartNew();
            while (await UserNameAsync(onA) != renamed)
            {
                changed.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1), "the rename on B was still not seen on A after 1 s");
                await Task.Delay(TimeSpan.FromMilliseconds(20), Ct);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string?> UserNameAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/me", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("username").GetString();
    }
}
