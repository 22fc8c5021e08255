using System.Net;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;

namespace Aap.Api.Tests.Platform.RateLimiting;

/// <summary>
/// Every route is under a rate limit: per client address for anonymous callers, per user when signed in, higher for
/// admins; health and metrics exempt. Responses carry the IETF <c>RateLimit-Policy</c> and <c>RateLimit</c> fields;
/// a 429 is a problem naming the policy, with <c>Retry-After</c>; the window resets on the application's clock.
/// </summary>
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Anonymous_callers_are_limited_per_address_and_the_window_resets_on_the_clock()
    {
        await using var host = await StartAsync(("RateLimits:Anonymous:PermitLimit", "3"), ("RateLimits:Anonymous:WindowSeconds", "60"));
        using var client = host.ClientFrom(IPAddress.Parse("127.0.0.2"));
        using var other = host.ClientFrom(IPAddress.Parse("127.0.0.3"));

        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync("/api/v1/status", Ct);
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
            Header(ok, "RateLimit-Policy").ShouldBe("\"anonymous\";q=3;w=60");
            remaining.Add(Header(ok, "RateLimit"));
        }

        using var refused = await client.GetAsync("/api/v1/status", Ct);
        using var elsewhere = await other.GetAsync("/api/v1/status", Ct);
        host.Clock.Advance(TimeSpan.FromSeconds(45));
        using var later = await client.GetAsync("/api/v1/status", Ct);
        host.Clock.Advance(TimeSpan.FromSeconds(15));
        using var reset = await client.GetAsync("/api/v1/status", Ct);

        remaining.ShouldBe(["\"anonymous\";r=2;t=60", "\"anonymous\";r=1;t=60", "\"anonymous\";r=0;t=60"]);
        var problem = await Problem.ReadAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        problem.GetProperty("policy").GetString().ShouldBe("anonymous");
        problem.GetProperty("detail").GetString()!.ShouldContain("anonymous");
        refused.Headers.GetValues("Retry-After").Single().ShouldBe("60");
        Header(refused, "RateLimit").ShouldBe("\"anonymous\";r=0;t=60");
        elsewhere.StatusCode.ShouldBe(HttpStatusCode.OK, "another address has its own count");
        later.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        later.Headers.GetValues("Retry-After").Single().ShouldBe("15");
        reset.StatusCode.ShouldBe(HttpStatusCode.OK);
        Header(reset, "RateLimit").ShouldBe("\"anonymous\";r=2;t=60");
    }

    [Fact]
    public async Task An_IPv6_client_counts_as_its_64_and_an_IPv4_client_as_itself_however_its_address_is_written()
    {
        // The addresses come through a trusted proxy, as they would behind a load balancer: each request's is a new one.
        await using var host = await StartAsync(("RateLimits:Anonymous:PermitLimit", "2"), ("RateLimits:Anonymous:WindowSeconds", "60"),
            ("Http:TrustForwardedHeaders", "true"), ("Http:KnownProxies:0", "127.0.0.1"), ("Http:KnownProxies:1", "::1"));
        using var proxy = host.Client();

        string[] from = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::7", "2001:db8:1:3::1",
            "203.0.113.9", "::ffff:203.0.113.9", "203.0.113.9", "203.0.113.10"];
        var answers = new List<string>();
        foreach (var address in from)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await proxy.SendAsync(request, Ct);
            answers.Add($"{address}: {(int)response.StatusCode} {Header(response, "RateLimit")}");
        }

        answers.ShouldBe([
            "2001:db8:1:2::1: 200 \"anonymous\";r=1;t=60",
            "2001:db8:1:2:ffff:ffff:ffff:ffff: 200 \"anonymous\";r=0;t=60",
            "2001:db8:1:2::7: 429 \"anonymous\";r=0;t=60",
            "2001:db8:1:3::1: 200 \"anonymous\";r=1;t=60",
            "203.0.113.9: 200 \"anonymous\";r=1;t=60",
            "::ffff:203.0.113.9: 200 \"anonymous\";r=0;t=60",
            "203.0.113.9: 429 \"anonymous\";r=0;t=60",
            "203.0.113.10: 200 \"anonymous\";r=1;t=60",
        ]);
    }

    [Fact]
    public async Task Signed_in_users_are_limited_per_user_whatever_their_address()
    {
        await using var host = await StartAsync(("RateLimits:User:PermitLimit", "2"), ("RateLimits:User:WindowSeconds", "3600"));
        using var alice = await host.ClientForAsync(await host.RegisterAsync());
        using var bob = await host.ClientForAsync(await host.RegisterAsync());

        using var first = await alice.GetAsync("/api/v1/todos", Ct);
        using var second = await alice.GetAsync("/api/v1/todos", Ct);
        using var third = await alice.GetAsync("/api/v1/me", Ct);
        using var bobs = await bob.GetAsync("/api/v1/todos", Ct);
        using var anonymous = await host.Client().GetAsync("/api/v1/status", Ct);

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        Header(first, "RateLimit-Policy").ShouldBe("\"user\";q=2;w=3600");
        Header(second, "RateLimit").ShouldBe("\"user\";r=0;t=1800", "the hour-long windows are aligned on the clock (09:30)");
        (await Problem.ReadAsync(third, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString().ShouldBe("user");
        third.Headers.GetValues("Retry-After").Single().ShouldBe("1800");
        bobs.StatusCode.ShouldBe(HttpStatusCode.OK, "each user has a count of their own");
        anonymous.StatusCode.ShouldBe(HttpStatusCode.OK);
        Header(anonymous, "RateLimit-Policy").ShouldStartWith("\"anonymous\"");
    }

    [Fact]
    public async Task Admins_are_under_their_own_higher_limit()
    {
        await using var host = await StartAsync(("RateLimits:User:PermitLimit", "1"), ("RateLimits:Admin:PermitLimit", "5"));
        using var admin = await host.ClientForAsync(await host.CreateAdminAsync());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await admin.GetAsync("/api/v1/admin/users", Ct);
            statuses.Add(response.StatusCode);
            Header(response, "RateLimit-Policy").ShouldBe("\"admin\";q=5;w=60");
        }

        statuses.ShouldAllBe(s => s == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Health_and_metrics_are_exempt()
    {
        await using var host = await StartAsync(("RateLimits:Anonymous:PermitLimit", "1"));
        using var client = host.Client();

        for (var i = 0; i < 3; i++)
        {
            using var live = await client.GetAsync("/health/live", Ct);
            using var metrics = await client.GetAsync("/metrics", Ct);
            live.StatusCode.ShouldBe(HttpStatusCode.OK);
            metrics.StatusCode.ShouldBe(HttpStatusCode.OK);
            live.Headers.Contains("RateLimit").ShouldBeFalse();
        }
    }

    [Fact]
    public async Task Rejections_are_counted_by_policy()
    {
        await using var host = await StartAsync(("RateLimits:Anonymous:PermitLimit", "1"), ("Auth:RateLimitPermits", "1"));
        using var client = host.Client();
        (await client.GetAsync("/api/v1/status", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/api/v1/status", Ct)).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        (await client.GetAsync("/api/v1/apps", Ct)).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);

        var scrape = await MetricsTests.ScrapeAsync(host);

        scrape.Sum("aap_rate_limit_rejections_total", ("policy", "anonymous")).ShouldBe(2);
    }

    [Fact]
    public async Task Sign_in_routes_keep_their_own_stricter_limit_and_the_429_names_it()
    {
        await using var host = await StartAsync(("Auth:RateLimitPermits", "2"), ("Auth:RateLimitWindowSeconds", "60"));
        using var client = host.Client();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last?.Dispose();
            last = await client.PostJsonAsync("/api/v1/auth/login", new { login = "nobody", password = "whatever it is" });
            statuses.Add(last.StatusCode);
        }

        statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]);
        var problem = await Problem.ReadAsync(last!, HttpStatusCode.TooManyRequests, "rate_limited");
        problem.GetProperty("policy").GetString().ShouldBe("auth-login");
        problem.GetProperty("detail").GetString()!.ShouldStartWith("Too many attempts from this address");
        last!.Headers.Contains("Retry-After").ShouldBeTrue();
        Header(last, "RateLimit-Policy").ShouldStartWith("\"anonymous\""); // the route is under the address's general limit too
        using var status = await client.GetAsync("/api/v1/status", Ct);
        status.StatusCode.ShouldBe(HttpStatusCode.OK, "other routes are not under the sign-in limit");
        last.Dispose();
        var scrape = await MetricsTests.ScrapeAsync(host);
        scrape.Sum("aap_rate_limit_rejections_total", ("policy", "auth-login")).ShouldBe(1);
    }

    [Fact]
    public async Task A_routes_own_limit_holds_when_signed_in_and_anonymous_callers_of_one_address_come_at_once()
    {
        // A signed-in caller's request is counted under its account and, for the route's own limit, under its address,
        // like an anonymous caller's: both kinds at once must still get exactly the route's permits, not more.
        await using var host = await StartAsync(("Auth:RateLimitPermits", "10"), ("Auth:RateLimitWindowSeconds", "3600"));
        using var signedIn = await host.ClientForAsync(await host.RegisterAsync());
        using var anonymous = host.Client();

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? signedIn : anonymous).PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = $"not a token {i}" })));

        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        refused.Count.ShouldBe(30, string.Join(", ", answers.Select(a => (int)a.StatusCode)));
        foreach (var answer in refused)
        {
            (await Problem.ReadAsync(answer, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString().ShouldBe("auth-refresh");
        }

        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Theory]
    [InlineData("RateLimits:User:PermitLimit", "0")]
    [InlineData("RateLimits:Anonymous:WindowSeconds", "0")]
    public async Task A_limit_out_of_range_stops_start_up_naming_the_key(string key, string value)
    {
        await using var host = new SqliteFactory();
        host.With(key, value);

        var error = await Should.ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain(key);
    }

    private static async Task<SqliteFactory> StartAsync(params (string Key, string Value)[] settings)
    {
        var host = new SqliteFactory();
        foreach (var (key, value) in settings)
        {
            host.With(key, value);
        }

        await host.InitializeAsync();
        return host;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new ShouldAssertException($"No {name} header on a {(int)response.StatusCode} response.");
}
