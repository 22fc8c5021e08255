using System.Net;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform.RateLimiting;

/// <summary>
/// Beside the per-minute window: an hourly one (both counted, the tighter decides), a byte budget on the upload
/// routes, a bucket per sign-in route family, and every policy listed in the OpenAPI document.
/// </summary>
public sealed class RateLimitPolicyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_hourly_window_is_counted_beside_the_minute_one_and_the_tighter_decides(bool redis)
    {
        await using var host = await StartAsync(redis, ("RateLimits:User:PermitLimit", "3"), ("RateLimits:User:WindowSeconds", "60"), ("RateLimits:User:PerHour", "5"));
        var alice = await host.RegisterAsync();
        var client = await host.ClientForAsync(alice);

        var first = await GetAsync(client);
        await GetAsync(client);
        await GetAsync(client);
        var minuteFull = await GetAsync(client);
        host.Clock.Advance(TimeSpan.FromSeconds(60));
        client.Dispose();
        client = await host.ClientForAsync(alice); // a fresh access token: the clock moved past the old one's life
        var fourth = await GetAsync(client);
        var fifth = await GetAsync(client);
        var hourFull = await GetAsync(client);
        host.Clock.Advance(TimeSpan.FromSeconds(60));
        client.Dispose();
        client = await host.ClientForAsync(alice);
        var stillFull = await GetAsync(client);
        host.Clock.Advance(TimeSpan.FromMinutes(28));
        client.Dispose();
        client = await host.ClientForAsync(alice);
        var nextHour = await GetAsync(client);
        client.Dispose();

        first.Status.ShouldBe(HttpStatusCode.OK);
        first.Policy.ShouldBe("\"user\";q=3;w=60, \"user-hour\";q=5;w=3600");
        first.State.ShouldBe("\"user\";r=2;t=60", "the minute window is closest to its limit");
        minuteFull.Status.ShouldBe(HttpStatusCode.TooManyRequests);
        minuteFull.ProblemPolicy.ShouldBe("user");
        minuteFull.RetryAfter.ShouldBe("60");
        fourth.Status.ShouldBe(HttpStatusCode.OK, "the refused request did not count in the hour");
        fourth.State.ShouldBe("\"user-hour\";r=1;t=1740");
        fifth.Status.ShouldBe(HttpStatusCode.OK);
        hourFull.Status.ShouldBe(HttpStatusCode.TooManyRequests);
        hourFull.ProblemPolicy.ShouldBe("user-hour");
        hourFull.RetryAfter.ShouldBe("1740", "09:31 to 10:00, the hours aligned on the clock");
        stillFull.Status.ShouldBe(HttpStatusCode.TooManyRequests, "a new minute, but the hour is spent");
        nextHour.Status.ShouldBe(HttpStatusCode.OK);
        nextHour.State.ShouldBe("\"user\";r=2;t=60");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uploads_are_also_limited_by_bytes_charged_from_content_length(bool redis)
    {
        long size;
        using (var probe = Form())
        {
            size = probe.Headers.ContentLength!.Value;
        }

        var budget = size * 2 + size / 2;
        await using var host = await StartAsync(redis, ("RateLimits:UploadBytes:Limit", budget.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("RateLimits:UploadBytes:WindowSeconds", "3600"));
        var alice = await host.RegisterAsync();
        var client = await host.ClientForAsync(alice);

        var first = await UploadAsync(client);
        var second = await UploadAsync(client);
        var third = await UploadAsync(client);
        using var list = await client.GetAsync("/api/v1/files", Ct);
        var listed = (await list.JsonAsync()).GetProperty("data").GetArrayLength();
        using var bob = await host.ClientForAsync(await host.RegisterAsync());
        var bobs = await UploadAsync(bob);
        host.Clock.Advance(TimeSpan.FromMinutes(30));
        client.Dispose();
        client = await host.ClientForAsync(alice);
        var later = await UploadAsync(client);
        client.Dispose();

        first.Status.ShouldBe(HttpStatusCode.Created);
        first.Policy.ShouldContain($"\"upload-bytes\";q={budget};w=3600");
        first.State.ShouldEndWith($"\"upload-bytes\";r={budget - size};t=1800");
        second.Status.ShouldBe(HttpStatusCode.Created);
        third.Status.ShouldBe(HttpStatusCode.TooManyRequests);
        third.ProblemPolicy.ShouldBe("upload-bytes");
        third.RetryAfter.ShouldBe("1800");
        third.State.ShouldEndWith($"\"upload-bytes\";r={budget - 2 * size};t=1800");
        list.StatusCode.ShouldBe(HttpStatusCode.OK);
        list.Headers.GetValues("RateLimit-Policy").Single().ShouldNotContain("upload-bytes", customMessage: "only upload routes spend bytes");
        listed.ShouldBe(2, "the refused upload stored nothing");
        bobs.Status.ShouldBe(HttpStatusCode.Created, "each user has a budget of their own");
        later.Status.ShouldBe(HttpStatusCode.Created, "the budget resets with its window");
    }

    [Fact]
    public async Task Sign_in_routes_have_a_bucket_per_family_with_the_seed_routes_in_theirs()
    {
        await using var host = await StartAsync(false, ("Auth:RateLimitPermits", "2"), ("Auth:RateLimitWindowSeconds", "60"));
        using var client = host.Client();

        var logins = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var login = await client.PostJsonAsync("/api/v1/auth/login", new { login = "nobody", password = "whatever it is" });
            logins.Add(login.StatusCode);
        }

        using var seedLogin = await client.PostJsonAsync("/api/login/", new { email = "nobody@example.test", password = "whatever it is" });
        using var register = await client.PostJsonAsync("/api/v1/auth/register", new { username = "", email = "", password = "" });
        using var seedRegister = await client.PostJsonAsync("/api/register/", new { email = "", password = "" });
        using var taskApiRegister = await client.PostJsonAsync("/register", new { username = "", password = "" });
        using var refresh = await client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = "not a token" });

        logins.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized]);
        seedLogin.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "seed 004's login is in the login family");
        (await Problem.ReadAsync(seedLogin, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString().ShouldBe("auth-login");
        seedLogin.Headers.GetValues("RateLimit-Policy").Single().ShouldContain("\"auth-login\";q=2;w=60");
        register.StatusCode.ShouldNotBe(HttpStatusCode.TooManyRequests, "registration has a bucket of its own");
        seedRegister.StatusCode.ShouldNotBe(HttpStatusCode.TooManyRequests);
        (await Problem.ReadAsync(taskApiRegister, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString()
            .ShouldBe("auth-register", "seed 003's register is the third in the register family");
        refresh.StatusCode.ShouldNotBe(HttpStatusCode.TooManyRequests, "refresh has a bucket of its own");
        refresh.Headers.GetValues("RateLimit-Policy").Single().ShouldContain("\"auth-refresh\";q=2;w=60");
    }

    [Fact]
    public async Task The_openapi_document_lists_every_operations_policies_and_its_429()
    {
        await using var host = await StartAsync(false, ("RateLimits:Anonymous:PermitLimit", "300"), ("RateLimits:User:PermitLimit", "100"),
            ("RateLimits:User:PerHour", "5000"), ("RateLimits:Admin:PermitLimit", "1000"), ("RateLimits:UploadBytes:Limit", "1000000"), ("Auth:RateLimitPermits", "20"));
        using var response = await host.Client().GetAsync("/openapi/v1.json", Ct);
        var paths = (await response.JsonAsync()).GetProperty("paths");
        var operations = paths.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("operationId", out _))
                .Select(o => (Path: p.Name, Id: o.Value.GetProperty("operationId").GetString()!, Operation: o.Value)))
            .ToList();

        operations.Count.ShouldBeGreaterThan(30);
        foreach (var (path, id, operation) in operations)
        {
            if (path.StartsWith("/health", StringComparison.Ordinal) || path.StartsWith("/metrics", StringComparison.Ordinal))
            {
                operation.TryGetProperty("x-rate-limit", out _).ShouldBeFalse(id);
                continue;
            }

            operation.TryGetProperty("x-rate-limit", out _).ShouldBeTrue(id);
            var headers = operation.GetProperty("responses").GetProperty("429").GetProperty("headers");
            headers.EnumerateObject().Select(h => h.Name).ShouldBe(["RateLimit", "RateLimit-Policy", "Retry-After"], ignoreOrder: true, id);
        }

        var login = Policies(operations, "Login");
        login.ShouldContain(("anonymous", 300L, 60));
        login.ShouldContain(("auth-login", 20L, 60));
        login.ShouldNotContain(p => p.Name == "upload-bytes");
        var upload = Policies(operations, "UploadFile");
        upload.ShouldContain(("user", 100L, 60));
        upload.ShouldContain(("user-hour", 5000L, 3600));
        upload.ShouldContain(("admin", 1000L, 60));
        upload.ShouldContain(("upload-bytes", 1000000L, 3600));
        upload.ShouldNotContain(p => p.Name == "anonymous", "the route needs a caller");
        Policies(operations, "ProblemSet2CompleteApp").ShouldContain(p => p.Name == "upload-bytes", "seed 000's completion is an upload too");
        Policies(operations, "ListFiles").ShouldNotContain(p => p.Name == "upload-bytes");
        Policies(operations, "SeedTaskApiRegister").ShouldContain(p => p.Name == "auth-register");
    }

    private static List<(string Name, long Limit, int Window)> Policies(List<(string Path, string Id, JsonElement Operation)> operations, string id) =>
        operations.Single(o => o.Id == id).Operation.GetProperty("x-rate-limit").EnumerateArray()
            .Select(p => (p.GetProperty("policy").GetString()!, p.GetProperty("limit").GetInt64(), p.GetProperty("window").GetInt32()))
            .ToList();

    private static MultipartFormDataContent Form() => new() { { Images.Part(Images.Screenshot()), "file", "proof.png" } };

    private static async Task<Outcome> UploadAsync(HttpClient client)
    {
        using var form = Form();
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        return await Outcome.ReadAsync(response);
    }

    private static async Task<Outcome> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/me", Ct);
        return await Outcome.ReadAsync(response);
    }

    private static async Task<SqliteFactory> StartAsync(bool redis, params (string Key, string Value)[] settings)
    {
        var host = new SqliteFactory();
        if (redis)
        {
            host.With("Redis:Configuration", RedisServer.Configuration).With("Redis:KeyPrefix", RedisServer.UniquePrefix());
        }

        foreach (var (key, value) in settings)
        {
            host.With(key, value);
        }

        await host.InitializeAsync();
        return host;
    }

    private sealed record Outcome(HttpStatusCode Status, string Policy, string State, string? RetryAfter, string? ProblemPolicy)
    {
        public static async Task<Outcome> ReadAsync(HttpResponseMessage response)
        {
            string? problemPolicy = null;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                problemPolicy = (await Problem.ReadAsync(response, HttpStatusCode.TooManyRequests, "rate_limited")).GetProperty("policy").GetString();
            }

            return new Outcome(response.StatusCode, Header(response, "RateLimit-Policy"), Header(response, "RateLimit"),
                response.Headers.TryGetValues("Retry-After", out var retry) ? retry.Single() : null, problemPolicy);
        }

        private static string Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new ShouldAssertException($"No {name} header on a {(int)response.StatusCode} response.");
    }
}
