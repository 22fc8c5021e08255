using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;

namespace Aap.Api.Tests.Platform.Caching;

/// <summary>
/// The catalog is cached on every node, in memory and in the output cache (in Redis when it is configured); an admin
/// write on one node evicts it on every node within a second: over PostgreSQL notifications without Redis, over Redis
/// pub/sub with it, and over PostgreSQL again while Redis is down. Reads never fail because Redis does.
/// </summary>
public sealed class CatalogAcrossNodesTests
{
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_redis_an_admin_write_on_one_node_evicts_the_other_nodes_cached_catalog_within_a_second()
    {
        await using var nodes = await TwoNodesAsync(null);

        await EvictionAcrossNodesAsync(nodes);
    }

    [Fact]
    public async Task With_redis_an_admin_write_on_one_node_evicts_the_other_nodes_cached_catalog_within_a_second()
    {
        await using var nodes = await TwoNodesAsync(RedisServer.Configuration);

        await EvictionAcrossNodesAsync(nodes);
        (await MetricsTests.ScrapeAsync(nodes.B)).Sum("aap_cache_signals_sent_total", ("transport", "redis")).ShouldBeGreaterThan(0);
        (await MetricsTests.ScrapeAsync(nodes.A)).Sum("aap_cache_signals_received_total", ("transport", "redis")).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task With_redis_stopped_reads_still_answer_and_an_admin_write_still_evicts_the_other_node_within_a_second()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var nodes = await TwoNodesAsync(redis.Configuration);
        using var anonymousA = nodes.A.Client();
        var app = await PublishAsync(nodes, "before");
        (await GetTwiceAsync(anonymousA, $"/api/v1/apps/{app.Id}")).GetProperty("data").GetProperty("name").GetString().ShouldBe(app.Name);

        await redis.StopAsync();

        // Reads answer from the database and the node's own memory, at once and never with an error.
        var reads = Stopwatch.StartNew();
        foreach (var path in new[] { $"/api/v1/apps?q={app.Tag}", $"/api/v1/apps/{app.Id}", "/api/v1/categories" })
        {
            using var response = await anonymousA.GetAsync(path, Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        }

        reads.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));

        // The write's signal travels over PostgreSQL while Redis is down.
        var renamed = await RenameAsync(nodes, app, "during");
        var written = Stopwatch.StartNew();
        await UntilAsync(written, async () => await NameAsync(anonymousA, app.Id) == renamed, "the rename on B did not reach A's cache within 1 s while Redis was down");
        await UntilAsync(written, async () => (await NamesAsync(anonymousA, app.Tag)).SequenceEqual([renamed]), "the rename on B did not reach A's cached list within 1 s while Redis was down");

        (await MetricsTests.ScrapeAsync(nodes.A)).Sum("aap_redis_failures_total").ShouldBeGreaterThan(0);
        (await MetricsTests.ScrapeAsync(nodes.B)).Sum("aap_cache_signals_sent_total", ("transport", "postgres")).ShouldBeGreaterThan(0);
        await nodes.A.DisposeLoggingAsync();
        LogFiles.ReadAll(nodes.A.DataDirectory).ShouldContain(line => line.Contains("\"@l\":\"Warning\"", StringComparison.Ordinal) && line.Contains("Redis", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_response_from_the_output_cache_carries_the_callers_own_headers_and_a_signed_in_caller_gets_their_own_view()
    {
        await using var host = new SqliteFactory();
        host.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", RedisServer.UniquePrefix())
            .With("Cors:AllowedOrigins:0", "https://one.example.test").With("Cors:AllowedOrigins:1", "https://two.example.test");
        await host.InitializeAsync();
        var admin = await host.CreateAdminAsync();
        using var adminClient = await host.ClientForAsync(admin);
        var tag = $"hdr{Guid.NewGuid():N}"[..12];
        using (var created = await adminClient.PostAsync("/api/v1/apps", JsonBody.Of(JsonSerializer.Serialize(new { name = $"{tag} app", link = "https://play.google.com/store/apps/details?id=hdr", points = 5 })), Ct))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        }

        using var anonymous = host.Client();
        var path = $"/api/v1/apps?q={tag}";
        using var first = await SendAsync(anonymous, path, "one", "https://one.example.test");
        using var second = await SendAsync(anonymous, path, "two", "https://two.example.test");

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        first.Headers.Age.ShouldBeNull();
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.Headers.Age.ShouldNotBeNull("the second anonymous read was not answered from the output cache");
        (await second.Content.ReadAsStringAsync(Ct)).ShouldBe(await first.Content.ReadAsStringAsync(Ct));
        second.Headers.GetValues("X-Request-Id").ShouldBe(["two"]);
        second.Headers.GetValues("Access-Control-Allow-Origin").ShouldBe(["https://two.example.test"]);
        Remaining(second).ShouldBe(Remaining(first) - 1);
        first.Headers.Contains("Set-Cookie").ShouldBeFalse();
        second.Headers.Contains("Set-Cookie").ShouldBeFalse();
        second.Headers.ETag.ShouldBe(first.Headers.ETag);

        // ETag and 304 hold for a response from the output cache.
        using (var again = new HttpRequestMessage(HttpMethod.Get, path))
        {
            again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
            using var notModified = await anonymous.SendAsync(again, Ct);
            notModified.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }

        // A signed-in caller is never answered with the anonymous body: theirs says whether they completed each app.
        var user = await host.RegisterAsync();
        using var signedIn = await host.ClientForAsync(user);
        using var mine = await signedIn.GetAsync(path, Ct);
        mine.StatusCode.ShouldBe(HttpStatusCode.OK);
        mine.Headers.Age.ShouldBeNull();
        (await mine.JsonAsync()).GetProperty("data")[0].GetProperty("completed").GetBoolean().ShouldBeFalse();
        (await second.JsonAsync()).GetProperty("data")[0].TryGetProperty("completed", out _).ShouldBeFalse();
        (await MetricsTests.ScrapeAsync(host)).Sum("aap_cache_output_lookups_total", ("result", "hit")).ShouldBeGreaterThan(0);
    }

    private static int Remaining(HttpResponseMessage response)
    {
        var field = response.Headers.GetValues("RateLimit").Single();
        var r = field.Split(';').Single(p => p.StartsWith("r=", StringComparison.Ordinal));
        return int.Parse(r[2..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string requestId, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Request-Id", requestId);
        request.Headers.Add("Origin", origin);
        return await client.SendAsync(request, Ct);
    }

    private static async Task EvictionAcrossNodesAsync(Nodes nodes)
    {
        using var anonymousA = nodes.A.Client();
        var app = await PublishAsync(nodes, "first");

        // A caches the list, the app and the categories (the second read of each is the output cache's).
        (await GetTwiceAsync(anonymousA, $"/api/v1/apps?q={app.Tag}")).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()).ShouldBe([app.Name]);
        (await GetTwiceAsync(anonymousA, $"/api/v1/apps/{app.Id}")).GetProperty("data").GetProperty("name").GetString().ShouldBe(app.Name);
        (await GetTwiceAsync(anonymousA, "/api/v1/categories")).GetProperty("data").EnumerateArray().ShouldNotContain(c => c.GetProperty("slug").GetString() == app.Tag);

        var renamed = await RenameAsync(nodes, app, "second");
        using (var category = await nodes.AdminOnB.PostAsync("/api/v1/categories", JsonBody.Of(JsonSerializer.Serialize(new { slug = app.Tag, name = app.Tag })), Ct))
        {
            category.StatusCode.ShouldBe(HttpStatusCode.Created, await category.Content.ReadAsStringAsync(Ct));
        }

        var written = Stopwatch.StartNew();
        await UntilAsync(written, async () => (await NamesAsync(anonymousA, app.Tag)).SequenceEqual([renamed]), "the rename on B did not reach A's cached list within 1 s");
        await UntilAsync(written, async () => await NameAsync(anonymousA, app.Id) == renamed, "the rename on B did not reach A's cached app within 1 s");
        await UntilAsync(written, async () =>
        {
            using var response = await anonymousA.GetAsync("/api/v1/categories", Ct);
            return (await response.JsonAsync()).GetProperty("data").EnumerateArray().Any(c => c.GetProperty("slug").GetString() == app.Tag);
        }, "the category created on B did not reach A's cached categories within 1 s");
    }

    private sealed record PublishedApp(long Id, string Name, string Tag);

    private static async Task<PublishedApp> PublishAsync(Nodes nodes, string word)
    {
        var tag = $"c{Guid.NewGuid():N}"[..12];
        var name = $"{tag} {word}";
        using var created = await nodes.AdminOnB.PostAsync("/api/v1/apps", JsonBody.Of(JsonSerializer.Serialize(new { name, link = "https://play.google.com/store/apps/details?id=nodes", points = 5 })), Ct);
        var body = await created.JsonAsync();
        created.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());

        // A must have heard every signal B sent before it caches anything: one arriving during a read makes the
        // read's answer unfit to store, and the "second read comes from the cache" checks would fail by chance.
        var waiting = Stopwatch.StartNew();
        while ((await MetricsTests.ScrapeAsync(nodes.A)).Sum("aap_cache_signals_received_total") < (await MetricsTests.ScrapeAsync(nodes.B)).Sum("aap_cache_signals_sent_total"))
        {
            waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "A did not hear B's signals");
            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct);
        }

        return new PublishedApp(body.GetProperty("data").GetProperty("id").GetInt64(), name, tag);
    }

    private static async Task<string> RenameAsync(Nodes nodes, PublishedApp app, string word)
    {
        var name = $"{app.Tag} {word}";
        using var patch = await nodes.AdminOnB.PatchAsync($"/api/v1/apps/{app.Id}", JsonBody.Of(JsonSerializer.Serialize(new { name })), Ct);
        patch.StatusCode.ShouldBe(HttpStatusCode.OK, await patch.Content.ReadAsStringAsync(Ct));
        return name;
    }

    /// <summary>Reads twice; the second answer must come from the output cache (it carries Age).</summary>
    private static async Task<JsonElement> GetTwiceAsync(HttpClient client, string path)
    {
        using (var first = await client.GetAsync(path, Ct))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK, await first.Content.ReadAsStringAsync(Ct));
        }

        using var second = await client.GetAsync(path, Ct);
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.Headers.Age.ShouldNotBeNull($"{path} was not answered from the output cache");
        return await second.JsonAsync();
    }

    private static async Task<List<string?>> NamesAsync(HttpClient client, string tag)
    {
        using var response = await client.GetAsync($"/api/v1/apps?q={tag}", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString())];
    }

    private static async Task<string?> NameAsync(HttpClient client, long id)
    {
        using var response = await client.GetAsync($"/api/v1/apps/{id}", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("name").GetString();
    }

    private static async Task UntilAsync(Stopwatch since, Func<Task<bool>> condition, string failure)
    {
        while (!await condition())
        {
            since.Elapsed.ShouldBeLessThan(Promise, failure);
            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct);
        }

        since.Elapsed.ShouldBeLessThan(Promise, failure);
    }

    private sealed class Nodes(PostgresFactory a, PostgresFactory b, HttpClient adminOnB) : IAsyncDisposable
    {
        public PostgresFactory A { get; } = a;

        public PostgresFactory B { get; } = b;

        public HttpClient AdminOnB { get; } = adminOnB;

        public async ValueTask DisposeAsync()
        {
            AdminOnB.Dispose();
            await B.DisposeAsync();
            await A.DisposeAsync();
        }
    }

    /// <summary>Two nodes on one PostgreSQL database (and one Redis key prefix), once both hear the other's signals.</summary>
    private static async Task<Nodes> TwoNodesAsync(string? redis)
    {
        var a = new PostgresFactory();
        await a.CreateDatabaseAsync();
        var b = PostgresFactory.AnotherNodeOf(a);
        var prefix = RedisServer.UniquePrefix();
        foreach (var node in new[] { a, b })
        {
            if (redis is not null)
            {
                node.With("Redis:Configuration", redis).With("Redis:KeyPrefix", prefix);
            }
        }

        await a.InitializeAsync();
        await b.InitializeAsync();
        foreach (var node in new[] { a, b })
        {
            var waiting = Stopwatch.StartNew();
            while ((await MetricsTests.ScrapeAsync(node)).Sum("aap_cache_signals_hearing") != 1)
            {
                waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), "a node never heard the other nodes' signals");
                await Task.Delay(TimeSpan.FromMilliseconds(50), Ct);
            }

            if (redis is not null)
            {
                // Redis is up: this node hears over it (PostgreSQL too), not merely over the database.
                (await MetricsTests.ScrapeAsync(node)).Sum("aap_redis_connected").ShouldBe(1);
            }
        }

        var admin = await a.CreateAdminAsync();
        return new Nodes(a, b, await b.ClientForAsync(admin));
    }
}
