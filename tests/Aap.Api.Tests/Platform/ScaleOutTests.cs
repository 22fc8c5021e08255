using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Docs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Scale-out on one machine: three AAP nodes on one PostgreSQL database and one S3 server, no sticky sessions, with
/// and without a Redis server shared by the nodes. What a user or an admin does on one node holds on the others
/// within the product's promised time (sessions at once through PostgreSQL notifications, runtime settings within
/// their 2 s refresh, the catalog within a second, over Redis pub/sub when Redis is there), a rate limit counts
/// across the nodes with Redis and per node without it, and a round-robin proxy in front of them keeps its promises
/// under load while one node, a process of its own, is killed and started again.
/// </summary>
public sealed class ScaleOutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The per-user limit of the three-node test, per window of a day (so no window ends during the test).</summary>
    private const int UserLimit = 20;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Accounts_sessions_settings_the_catalog_and_rate_limits_hold_across_three_nodes(bool withRedis)
    {
        var shared = new Shared(withRedis ? RedisServer.UniquePrefix() : null);
        await using var a = shared.Node(new PostgresFactory());
        await a.CreateDatabaseAsync();
        await using var b = shared.Node(PostgresFactory.AnotherNodeOf(a));
        await using var c = shared.Node(PostgresFactory.AnotherNodeOf(a));
        foreach (var node in new[] { a, b, c })
        {
            node.With("RateLimits:User:PermitLimit", $"{UserLimit}").With("RateLimits:User:WindowSeconds", "86400");
        }

        await a.InitializeAsync();
        await Task.WhenAll(Task.Run(async () => await b.InitializeAsync(), Ct), Task.Run(async () => await c.InitializeAsync(), Ct));
        if (withRedis)
        {
            foreach (var node in new[] { a, b, c })
            {
                await UntilAsync(TimeSpan.FromSeconds(30), async () => (await MetricsTests.ScrapeAsync(node)).Sum("aap_redis_connected") == 1,
                    "a node did not connect to Redis");
            }
        }

        using var onA = a.Client();
        using var onB = b.Client();
        using var onC = c.Client();

        // A catalog query that A and B cache now, before the admin write on C that changes its answer.
        var tag = $"scale{Guid.NewGuid():N}"[..16];
        var catalogQuery = $"/api/v1/apps?q={tag}";
        foreach (var node in new[] { onA, onB, onC })
        {
            (await CatalogNamesAsync(node, catalogQuery)).ShouldBeEmpty();
        }

        // 1. Sign up on A, sign in on B, read /me on C.
        var userName = $"user_{Guid.NewGuid():N}"[..15];
        using (var signUp = await onA.PostJsonAsync("/api/v1/auth/register", new { username = userName, email = $"{userName}@example.test", password = Accounts.Password }))
        {
            signUp.StatusCode.ShouldBe(HttpStatusCode.Created, await signUp.Content.ReadAsStringAsync(Ct));
        }

        var tokens = await SignInAsync(onB, userName);
        using (var me = await SendAsync(onC, HttpMethod.Get, "/api/v1/me", tokens.AccessToken))
        {
            me.StatusCode.ShouldBe(HttpStatusCode.OK, await me.Content.ReadAsStringAsync(Ct));
            (await me.JsonAsync()).GetProperty("data").GetProperty("username").GetString().ShouldBe(userName);
        }

        // 2. A session ended on A (sign-out, then an admin's deactivation) is refused on B and C within a second.
        await AcceptedEverywhereAsync(tokens.AccessToken, onB, onC);
        using (var signOut = await SendAsync(onA, HttpMethod.Post, "/api/v1/auth/logout", tokens.AccessToken, new { scope = "current" }))
        {
            signOut.IsSuccessStatusCode.ShouldBeTrue(await signOut.Content.ReadAsStringAsync(Ct));
        }

        await RefusedWithinAsync(TimeSpan.FromSeconds(1), tokens.AccessToken, onB, onC);

        var admin = await a.CreateAdminAsync();
        var adminToken = (await SignInAsync(onC, admin.UserName!)).AccessToken;
        var other = await a.RegisterAsync();
        var otherToken = (await SignInAsync(onB, other.UserName!)).AccessToken;
        await AcceptedEverywhereAsync(otherToken, onB, onC);
        using (var deactivate = await SendAsync(onA, HttpMethod.Patch, $"/api/v1/admin/users/{other.Id}", adminToken, new { is_active = false }))
        {
            deactivate.StatusCode.ShouldBe(HttpStatusCode.OK, await deactivate.Content.ReadAsStringAsync(Ct));
        }

        await RefusedWithinAsync(TimeSpan.FromSeconds(1), otherToken, onB, onC);

        // 3. A runtime setting changed on B applies on A and C within two seconds (their snapshots' refresh interval).
        (await ExpiresInAsync(onA, userName)).ShouldBe(30);
        (await ExpiresInAsync(onC, userName)).ShouldBe(30);
        using (var set = await SendAsync(onB, HttpMethod.Put, "/api/v1/admin/settings/auth.access_token_lifetime_seconds", adminToken, new { value = 600 }))
        {
            set.StatusCode.ShouldBe(HttpStatusCode.OK, await set.Content.ReadAsStringAsync(Ct));
        }

        var changed = Stopwatch.StartNew();
        (await ExpiresInAsync(onB, userName)).ShouldBe(600);
        foreach (var node in new[] { onA, onC })
        {
            await UntilAsync(TimeSpan.FromSeconds(2) - changed.Elapsed, async () => await ExpiresInAsync(node, userName) == 600,
                "the access token lifetime set on B did not apply on another node within 2 s");
        }

        // 4. An app published on C: C's catalog has it at once; A's and B's cached answers are evicted within a
        // second (docs/api/rewards.md: an admin write evicts the catalog on every node, over PostgreSQL
        // notifications or Redis pub/sub; with Redis the anonymous answers themselves are cached in Redis).
        var heardOverRedis = await Task.WhenAll(new[] { a, b }.Select(CatalogSignalsOverRedisAsync));
        var appName = $"{tag} app";
        using (var publish = await SendAsync(onC, HttpMethod.Post, "/api/v1/apps", adminToken,
                   new { name = appName, link = "https://play.google.com/store/apps/details?id=scale", points = 10 }))
        {
            publish.StatusCode.ShouldBe(HttpStatusCode.Created, await publish.Content.ReadAsStringAsync(Ct));
        }

        (await CatalogNamesAsync(onC, catalogQuery)).ShouldBe([appName]);
        var published = Stopwatch.StartNew();
        var promised = TimeSpan.FromSeconds(1);
        foreach (var node in new[] { onA, onB })
        {
            // A margin over the promise for a loaded machine; the elapsed time is checked against the promise.
            await UntilAsync(promised + TimeSpan.FromSeconds(1) - published.Elapsed, async () => (await CatalogNamesAsync(node, catalogQuery)).SequenceEqual([appName]),
                "an app published on C never reached another node's catalog");
        }

        published.Elapsed.ShouldBeLessThan(promised + TimeSpan.FromSeconds(1));
        if (withRedis)
        {
            // The signal that evicted them came over Redis pub/sub too (PostgreSQL carries it as well, ADR 14).
            foreach (var (node, before) in new[] { a, b }.Zip(heardOverRedis))
            {
                await UntilAsync(TimeSpan.FromSeconds(5), async () => await CatalogSignalsOverRedisAsync(node) > before,
                    "a node did not hear the catalog write over Redis pub/sub");
            }
        }

        // 5. One user's requests through A, B and C in turn: with Redis the per-user limit counts them together and
        // refuses what is over it on whichever node; without Redis each node counts its own (the documented N times
        // the quota, docs/configuration.md), so three times the limit's half passes.
        var limited = await a.RegisterAsync();
        var limitedToken = (await SignInAsync(onA, limited.UserName!)).AccessToken;
        var sent = UserLimit / 2 * 3;
        var statuses = new List<HttpStatusCode>();
        var refusals = new List<string?>();
        for (var i = 0; i < sent; i++)
        {
            using var me = await SendAsync(new[] { onA, onB, onC }[i % 3], HttpMethod.Get, "/api/v1/me", limitedToken);
            statuses.Add(me.StatusCode);
            if (me.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refusals.Add((await Problem.ReadAsync(me, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString());
            }
        }

        var allowed = withRedis ? UserLimit : sent;
        statuses.ShouldBe([.. Enumerable.Repeat(HttpStatusCode.OK, allowed), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, sent - allowed)],
            withRedis ? "one count across the three nodes" : "one count per node");
        refusals.ShouldAllBe(policy => policy == "user");
    }

    /// <summary>
    /// The load: 200 clients for 60 s, on PostgreSQL with Redis (every request also counts its rate limits in
    /// Redis and the anonymous catalog is cached there). One run only, for the suite's time; the PostgreSQL-only
    /// deployment is covered by the three-node test above.
    /// </summary>
    [Theory]
    [InlineData(200, 60, true)]
    public async Task Under_load_through_a_round_robin_a_node_killed_and_restarted_loses_and_doubles_no_completion(int clients, int seconds, bool withRedis)
    {
        var shared = new Shared(withRedis ? RedisServer.UniquePrefix() : null);
        var duration = TimeSpan.FromSeconds(seconds);
        await using var a = shared.Node(new PostgresFactory());
        await a.CreateDatabaseAsync();
        await using var b = shared.Node(PostgresFactory.AnotherNodeOf(a));
        await a.InitializeAsync();
        await b.InitializeAsync();
        await a.SetAsync("auth.access_token_lifetime_seconds", 600);
        var environment = shared.ProcessEnvironment(a);
        var c = await DocServer.StartAsync(environment, Ct);
        await using var proxy = await RoundRobinProxy.StartAsync(a.ServerAddress, b.ServerAddress, new Uri(c.Address));
        var killedAddress = new Uri(c.Address);
        var restarted = (DocServer?)null;
        try
        {
            var apps = new List<long>();
            for (var i = 0; i < 120; i++)
            {
                apps.Add(await a.AddAppAsync(points: 1 + (i % 7)));
            }

            // Every client signs up and in through the proxy before the clock of the load starts, a few at a time: each
            // costs two password hashes, and 200 at once would wait out their timeouts on a loaded 2-core machine.
            var users = new LoadClient[clients];
            await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct },
                async (i, _) => users[i] = await LoadClient.StartAsync(proxy.Address));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var load = Stopwatch.StartNew();
            var running = users.Select(user => Task.Run(() => user.RunAsync(apps, stop.Token), Ct)).ToList();

            // Halfway: node C dies with requests in flight, and starts again on a new port.
            await UntilAsync(duration + TimeSpan.FromSeconds(60), () => Task.FromResult(load.Elapsed >= duration / 2 && users.Sum(u => u.Completed) > clients),
                "the load did not get going");
            var killedAt = DateTimeOffset.UtcNow;
            await c.KillAsync();
            var killed = DateTimeOffset.UtcNow;
            var again = await DocServer.StartAsync(environment, Ct);
            restarted = again;
            proxy.Replace(2, new Uri(again.Address));
            var restartedAddress = new Uri(again.Address);

            // The load goes on for the whole duration, until the restarted node has served its share and the clients
            // have made two completions each on average.
            await UntilAsync(duration * 2 + TimeSpan.FromSeconds(120), () => Task.FromResult(load.Elapsed >= duration &&
                    proxy.Log.Count(r => r.Node == restartedAddress && r.Status < 500) >= 50 && users.Sum(u => u.Completed) > clients * 2),
                () => $"within the deadline, the restarted node served {proxy.Log.Count(r => r.Node == restartedAddress && r.Status < 500)} requests (50 wanted) " +
                $"and the clients made {users.Sum(u => u.Completed)} completions ({clients * 2} wanted); the restarted node's output:\n{again.Output}");
            await stop.CancelAsync();
            await Task.WhenAll(running);

            var log = proxy.Log;
            var failures = log.Where(r => r.Status >= 500).ToList();
            // The only 5xx allowed: requests node C had when it was killed (they started before it died).
            var unexpected = failures.Where(r => !(r.Node == killedAddress && r.Status == 502 && r.Started <= killed && r.Finished >= killedAt)).ToList();
            unexpected.ShouldBeEmpty(string.Join("\n", unexpected.Take(20)));
            users.SelectMany(u => u.Unexpected).ShouldBeEmpty();
            log.Count(r => r.Node == killedAddress && r.Status < 500).ShouldBeGreaterThan(0);

            // Every completion a client saw acknowledged is in the database once, and nothing else is: a completion cut
            // off by the kill was retried and found either created (201) or already there (409 after the 502).
            var stored = await a.DbAsync(db => db.Set<AppCompletion>().AsNoTracking().Select(x => new { x.UserId, x.AppId }).ToListAsync(Ct));
            stored.GroupBy(x => (x.UserId, x.AppId)).Where(g => g.Count() > 1).ShouldBeEmpty("a completion was stored twice");
            foreach (var user in users)
            {
                var mine = stored.Where(x => x.UserId == user.Id).Select(x => x.AppId).Order().ToList();
                mine.ShouldBe([.. user.Acknowledged.Order()], $"user {user.Id}: stored completions differ from what the client was told");
            }

            await a.AssertLedgerMatchesBalancesAsync();
        }
        finally
        {
            await c.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }
    }

    /// <summary>One client of the load: its own account, a loop of completions and reads through the proxy.</summary>
    private sealed class LoadClient
    {
        private readonly HttpClient _http;

        private LoadClient(HttpClient http, long id)
        {
            _http = http;
            Id = id;
        }

        public long Id { get; }

        /// <summary>Apps whose completion the client was told exists (201, or 409 when retrying after a 502).</summary>
        public ConcurrentBag<long> Acknowledged { get; } = [];

        public ConcurrentQueue<string> Unexpected { get; } = new();

        public int Completed => Acknowledged.Count;

        public static async Task<LoadClient> StartAsync(Uri proxy)
        {
            var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromMinutes(5) };
            var name = $"load_{Guid.NewGuid():N}"[..15];
            using var signUp = await http.PostJsonAsync("/api/v1/auth/register", new { username = name, email = $"{name}@example.test", password = Accounts.Password });
            signUp.StatusCode.ShouldBe(HttpStatusCode.Created, await signUp.Content.ReadAsStringAsync(Ct));
            var id = (await signUp.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
            using var login = await http.PostJsonAsync("/api/v1/auth/login", new { login = name, password = Accounts.Password });
            login.StatusCode.ShouldBe(HttpStatusCode.OK, await login.Content.ReadAsStringAsync(Ct));
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.JsonAsync()).GetProperty("data").GetProperty("access_token").GetString());
            return new LoadClient(http, id);
        }

        public async Task RunAsync(List<long> apps, CancellationToken stop)
        {
            using var _ = _http;
            // Each client goes through the apps from its own starting point, one completion and two reads a round.
            var start = (int)(Id % apps.Count);
            for (var i = 0; i < apps.Count && !stop.IsCancellationRequested; i++)
            {
                var app = apps[(start + i) % apps.Count];
                await CompleteAsync(app);
                await ReadAsync("/api/v1/me/points");
                await ReadAsync("/api/v1/apps?sort=-points");
            }
        }

        private async Task CompleteAsync(long app)
        {
            var failed = false;
            for (var attempt = 0; attempt < 5; attempt++)
            {
                using var response = await _http.CompleteAsync(app, Images.Screenshot());
                switch ((int)response.StatusCode)
                {
                    case 201:
                        Acknowledged.Add(app);
                        return;
                    case 409 when failed:
                        Acknowledged.Add(app);
                        return;
                    case 502:
                        failed = true;
                        continue;
                    default:
                        Unexpected.Enqueue($"completion of app {app}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                        return;
                }
            }

            Unexpected.Enqueue($"completion of app {app}: 502 five times");
        }

        private async Task ReadAsync(string path)
        {
            using var response = await _http.GetAsync(path, CancellationToken.None);
            if (response.StatusCode != HttpStatusCode.OK && response.StatusCode != HttpStatusCode.BadGateway)
            {
                Unexpected.Enqueue($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
            }
        }
    }

    /// <summary>
    /// What the nodes of one deployment share besides its PostgreSQL database: the suite's S3 server (one bucket) and,
    /// when <paramref name="RedisPrefix"/> is set, the suite's Redis server under that key prefix.
    /// </summary>
    private sealed record Shared(string? RedisPrefix)
    {
        /// <summary>An in-process node of this deployment, on the real clock.</summary>
        public PostgresFactory Node(PostgresFactory node)
        {
            foreach (var (key, value) in S3Factory.Settings(Bucket))
            {
                node.With(key, value);
            }

            if (RedisPrefix is not null)
            {
                node.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", RedisPrefix);
            }

            node.WithServices(services => services.AddSingleton(TimeProvider.System));
            return node;
        }

        /// <summary>The environment of a node of this deployment started as a process of its own.</summary>
        public Dictionary<string, string> ProcessEnvironment(PostgresFactory first)
        {
            var environment = first.ProcessNodeEnvironment(Bucket);
            if (RedisPrefix is not null)
            {
                environment["Redis__Configuration"] = RedisServer.Configuration;
                environment["Redis__KeyPrefix"] = RedisPrefix;
            }

            return environment;
        }
    }

    private static readonly string Bucket = $"aap-scale-{Guid.NewGuid():N}";

    /// <summary>Catalog signals <paramref name="node"/> heard from another node over Redis pub/sub so far.</summary>
    private static async Task<double> CatalogSignalsOverRedisAsync(AapFactory node) =>
        (await MetricsTests.ScrapeAsync(node)).Sum("aap_cache_signals_received_total", ("topic", "catalog"), ("transport", "redis"));

    private static async Task<TestTokens> SignInAsync(HttpClient node, string login)
    {
        using var response = await node.PostJsonAsync("/api/v1/auth/login", new { login, password = Accounts.Password });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        var data = body.GetProperty("data");
        return new TestTokens(data.GetProperty("access_token").GetString()!, data.GetProperty("refresh_token").GetString()!);
    }

    private static async Task<int> ExpiresInAsync(HttpClient node, string login)
    {
        using var response = await node.PostJsonAsync("/api/v1/auth/login", new { login, password = Accounts.Password });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        return body.GetProperty("data").GetProperty("expires_in").GetInt32();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient node, HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: AapFactory.Json);
        }

        return await node.SendAsync(request, Ct);
    }

    private static async Task AcceptedEverywhereAsync(string token, params HttpClient[] nodes)
    {
        foreach (var node in nodes)
        {
            using var me = await SendAsync(node, HttpMethod.Get, "/api/v1/me", token);
            me.StatusCode.ShouldBe(HttpStatusCode.OK, await me.Content.ReadAsStringAsync(Ct));
        }
    }

    private static async Task RefusedWithinAsync(TimeSpan limit, string token, params HttpClient[] nodes)
    {
        var ended = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            await UntilAsync(limit - ended.Elapsed, async () =>
            {
                using var me = await SendAsync(node, HttpMethod.Get, "/api/v1/me", token);
                return me.StatusCode == HttpStatusCode.Unauthorized;
            }, $"a session ended on A was still accepted by {node.BaseAddress} after {limit.TotalSeconds} s");
        }
    }

    private static async Task<List<string>> CatalogNamesAsync(HttpClient node, string query)
    {
        using var response = await node.GetAsync(query, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return [.. (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(app => app.GetProperty("name").GetString()!)];
    }

    /// <summary>Checks <paramref name="condition"/> until it holds; at least once, however little time is left.</summary>
    private static Task UntilAsync(TimeSpan limit, Func<Task<bool>> condition, string failure) => UntilAsync(limit, condition, () => failure);

    /// <summary>As above, with a failure message written when the time is up (it reports the state then).</summary>
    private static async Task UntilAsync(TimeSpan limit, Func<Task<bool>> condition, Func<string> failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed >= limit)
            {
                deadline.Elapsed.ShouldBeLessThan(limit, failure());
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), Ct);
        }
    }
}

internal static class ScaleOutSettings
{
    /// <summary>Sets a runtime setting straight through the node's settings service (an arrangement, not under test).</summary>
    public static async Task SetAsync(this AapFactory factory, string key, int value)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var settings = scope.ServiceProvider.GetRequiredService<Aap.Api.Platform.Settings.RuntimeSettings>();
        settings.TryGetDefinition(key, out var definition).ShouldBeTrue(key);
        await settings.SetAsync(definition, value, null, CancellationToken.None);
    }
}
