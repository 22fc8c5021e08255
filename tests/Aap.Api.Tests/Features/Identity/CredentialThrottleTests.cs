using System.Net;
using System.Text;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// Password guessing: at most five wrong guesses per account and client address in five minutes are ever checked,
/// however many arrive at once; past that a 429 with Retry-After and no hash; the owner still signs in from
/// another address; Basic credentials count the same way and cost nothing on public routes.
/// </summary>
public abstract class CredentialThrottleTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> LoginRoutes => ["/api/v1/auth/login", "/api/login/", "/login", "/api/token/user/", "/api/token/admin/"];

    [Theory]
    [MemberData(nameof(LoginRoutes))]
    public async Task The_sixth_guess_on_any_login_route_is_a_429_even_with_the_right_password(string route)
    {
        var account = await factory.RegisterAsync();
        using var client = factory.Client();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostJsonAsync(route, Credentials(route, account, $"wrong guess {i}"));
            ((int)wrong.StatusCode).ShouldBeOneOf(400, 401);
        }

        using var right = await client.PostJsonAsync(route, Credentials(route, account, account.Password));

        await ShouldBeThrottledAsync(right, maxSeconds: 300);
        (await AttemptsAsync(CredentialThrottle.AccountKey(account.Id) + "|127.0.0.1")).ShouldBe(5);
    }

    [Fact]
    public async Task The_window_passes_and_the_right_password_works_again()
    {
        var account = await factory.RegisterAsync();
        using var client = factory.Client();
        await GuessWronglyAsync(client, account, 5);
        using (var refused = await LoginAsync(client, account.UserName!, account.Password))
        {
            await ShouldBeThrottledAsync(refused, maxSeconds: 300);
        }

        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        using var login = await LoginAsync(client, account.UserName!, account.Password);
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await AttemptsAsync(CredentialThrottle.AccountKey(account.Id) + "|127.0.0.1")).ShouldBeNull("a success clears the count of its address");
    }

    [Fact]
    public async Task Forty_guesses_at_once_get_five_checked_and_the_rest_refused_unchecked()
    {
        var account = await factory.RegisterAsync();
        using var client = factory.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => LoginAsync(client, account.Email!, $"parallel guess {i}")));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        statuses.Count(s => s == HttpStatusCode.Unauthorized).ShouldBe(5, "only five guesses may reach the password check");
        statuses.Count(s => s == HttpStatusCode.TooManyRequests).ShouldBe(35);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task An_attacker_on_one_address_does_not_lock_the_owner_out_on_another()
    {
        var account = await factory.RegisterAsync();
        using var attacker = factory.Client();
        await GuessWronglyAsync(attacker, account, 8);

        using var owner = factory.ClientFrom(IPAddress.Parse("127.0.0.2"));
        using var login = await LoginAsync(owner, account.Email!, account.Password);

        login.StatusCode.ShouldBe(HttpStatusCode.OK, await login.Content.ReadAsStringAsync(Ct));
        var user = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == account.Id, Ct));
        user.LockoutEnd.ShouldBeNull("the account itself is never locked");
        user.AccessFailedCount.ShouldBe(0);
    }

    [Fact]
    public async Task Unknown_and_existing_accounts_are_counted_and_refused_alike()
    {
        var account = await factory.RegisterAsync();
        var unknown = $"nobody_{Guid.NewGuid():N}";
        using var client = factory.Client();

        var known = new List<HttpStatusCode>();
        var missing = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var a = await LoginAsync(client, account.UserName!, $"wrong guess {i}");
            using var b = await LoginAsync(client, unknown, $"wrong guess {i}");
            known.Add(a.StatusCode);
            missing.Add(b.StatusCode);
        }

        missing.ShouldBe(known);
        known.Last().ShouldBe(HttpStatusCode.TooManyRequests);
        (await AttemptsAsync(CredentialThrottle.UnknownLoginKey(unknown) + "|127.0.0.1")).ShouldBe(5);
        (await AttemptsAsync(CredentialThrottle.AccountKey(account.Id) + "|127.0.0.1")).ShouldBe(5);
    }

    [Fact]
    public async Task Basic_guesses_count_against_the_same_limit_as_logins()
    {
        var account = await factory.RegisterAsync();
        using var client = factory.Client();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await GetMeAsync(client, Basic(account.UserName!, $"wrong guess {i}"));
            await Problem.ReadAsync(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var basic = await GetMeAsync(client, Basic(account.UserName!, account.Password));
        await ShouldBeThrottledAsync(basic, maxSeconds: 300);
        using var login = await LoginAsync(client, account.UserName!, account.Password);
        await ShouldBeThrottledAsync(login, maxSeconds: 300);
    }

    [Fact]
    public async Task Basic_credentials_on_a_public_route_are_never_checked()
    {
        var login = $"probe_{Guid.NewGuid():N}";
        using var client = factory.Client();
        for (var i = 0; i < 10; i++)
        {
            foreach (var path in new[] { "/health/live", "/api/v1/apps", "/api/v1/status" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.TryAddWithoutValidation("Authorization", Basic(login, $"guess {i}"));
                using var response = await client.SendAsync(request, Ct);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            }
        }

        (await AttemptsAsync(CredentialThrottle.UnknownLoginKey(login) + "|127.0.0.1")).ShouldBeNull("nothing was counted, so nothing was checked");
    }

    [Fact]
    public async Task A_wrong_current_password_counts_as_a_failed_attempt_of_the_account()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostJsonAsync("/api/v1/me/password", new { current_password = $"wrong guess {i}", new_password = "a brand new passphrase" });
            var problem = await Problem.ReadAsync(wrong, HttpStatusCode.BadRequest, "validation_failed");
            problem.GetProperty("errors").TryGetProperty("current_password", out _).ShouldBeTrue();
        }

        using var right = await client.PostJsonAsync("/api/v1/me/password", new { current_password = account.Password, new_password = "a brand new passphrase" });
        await ShouldBeThrottledAsync(right, maxSeconds: 300);
        using var login = await LoginAsync(factory.Client(), account.UserName!, account.Password);
        await ShouldBeThrottledAsync(login, maxSeconds: 300);
    }

    private static object Credentials(string route, TestAccount account, string password) => route switch
    {
        "/api/v1/auth/login" => new { login = account.UserName, password },
        "/api/login/" => new { email = account.Email, password },
        _ => new { username = account.UserName, password },
    };

    private static async Task GuessWronglyAsync(HttpClient client, TestAccount account, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var wrong = await LoginAsync(client, account.UserName!, $"wrong guess {i}");
            ((int)wrong.StatusCode).ShouldBeOneOf(401, 429);
        }
    }

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string login, string password) =>
        client.PostJsonAsync("/api/v1/auth/login", new { login, password });

    private static Task<HttpResponseMessage> GetMeAsync(HttpClient client, string authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return client.SendAsync(request, Ct);
    }

    internal static string Basic(string user, string password) =>
        $"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))}";

    internal static async Task ShouldBeThrottledAsync(HttpResponseMessage response, int maxSeconds)
    {
        var problem = await Problem.ReadAsync(response, HttpStatusCode.TooManyRequests, "too_many_attempts");
        problem.GetProperty("detail").GetString().ShouldStartWith("Too many password attempts");
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        retryAfter.ShouldBeInRange(1, maxSeconds);
    }

    private Task<int?> AttemptsAsync(string key) =>
        factory.DbAsync(db => db.Set<LoginAttempt>().Where(a => a.Key == key).Select(a => (int?)a.Attempts).SingleOrDefaultAsync(Ct));

    public sealed class OnSqlite(SqliteFactory factory) : CredentialThrottleTests(factory), IClassFixture<SqliteFactory>
    {
        [Fact]
        public async Task Guesses_from_many_addresses_stop_at_the_account_ceiling()
        {
            await using var host = new SqliteFactory();
            host.With("Auth:MaxAccountAttemptsPerHour", "8");
            await host.InitializeAsync();
            var account = await host.RegisterAsync();

            var statuses = new List<HttpStatusCode>();
            for (var address = 1; address <= 3; address++)
            {
                using var client = host.ClientFrom(IPAddress.Parse($"127.0.0.{address}"));
                for (var i = 0; i < 3; i++)
                {
                    using var response = await LoginAsync(client, account.UserName!, $"wrong guess {address}.{i}");
                    statuses.Add(response.StatusCode);
                }
            }

            statuses.Count(s => s == HttpStatusCode.Unauthorized).ShouldBe(8);
            statuses.Last().ShouldBe(HttpStatusCode.TooManyRequests);
            using var owner = host.ClientFrom(IPAddress.Parse("127.0.0.4"));
            using var refused = await LoginAsync(owner, account.UserName!, account.Password);
            await ShouldBeThrottledAsync(refused, maxSeconds: 3600);
        }

        [Fact]
        public async Task Basic_credentials_are_limited_per_address_before_any_account_is_looked_up()
        {
            await using var host = new SqliteFactory();
            host.With("Auth:RateLimitPermits", "3").With("Auth:RateLimitWindowSeconds", "60");
            await host.InitializeAsync();
            using var client = host.Client();

            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                using var response = await GetMeAsync(client, Basic($"someone_{i}", "any password at all"));
                statuses.Add(response.StatusCode);
                if (i == 3)
                {
                    await ShouldBeThrottledAsync(response, maxSeconds: 60);
                }
            }

            statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]);
            (await host.DbAsync(db => db.Set<LoginAttempt>().CountAsync(a => a.Key.StartsWith("l:SOMEONE_3"), Ct))).ShouldBe(0);
        }
    }

    public sealed class OnPostgres(PostgresFactory factory) : CredentialThrottleTests(factory), IClassFixture<PostgresFactory>;
}
