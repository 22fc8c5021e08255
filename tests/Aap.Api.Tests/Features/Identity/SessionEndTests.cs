using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// A session ends when its user ends it: the access tokens of a session that logged out, of every session after a
/// password change or a logout everywhere, are refused at once; refresh tokens belong to the dialect that issued
/// them and a replayed one ends its session on every route.
/// </summary>
public abstract class SessionEndTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_access_token_names_its_session()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);

        var claims = Payload(tokens.AccessToken);

        Guid.TryParse(claims.GetProperty("sid").GetString(), out var sid).ShouldBeTrue();
        var family = await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).Select(t => t.FamilyId).SingleAsync(Ct));
        sid.ShouldBe(family);
    }

    [Fact]
    public async Task An_access_token_is_refused_as_soon_as_its_session_logs_out()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        var other = await factory.LoginAsync(account);
        (await MeStatusAsync(tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);

        using var logout = await factory.Client().PostJsonAsync("/api/v1/auth/logout", new { refresh_token = tokens.RefreshToken });
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);

        (await MeStatusAsync(tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await MeStatusAsync(other.AccessToken)).ShouldBe(HttpStatusCode.OK, "another session of the same user goes on");
    }

    [Theory]
    [InlineData("/api/v1/auth/logout")]
    [InlineData("/api/logout/")]
    public async Task A_logout_with_only_a_bearer_token_ends_that_tokens_session(string route)
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var client = Bearer(tokens.AccessToken);

        using var logout = await client.PostAsync(route, null, Ct);

        logout.StatusCode.ShouldBe(HttpStatusCode.OK, await logout.Content.ReadAsStringAsync(Ct));
        (await MeStatusAsync(tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        using var refresh = await factory.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        await Problem.ReadAsync(refresh, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task A_refresh_token_already_revoked_with_no_valid_access_token_is_a_401_at_logout()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var first = await factory.Client().PostJsonAsync("/api/logout/", new { refresh_token = tokens.RefreshToken });
        first.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var again = await factory.Client().PostJsonAsync("/api/logout/", new { refresh_token = tokens.RefreshToken });

        await Problem.ReadAsync(again, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_password_change_ends_every_session_at_once_and_only_the_new_one_works()
    {
        var account = await factory.RegisterAsync();
        var first = await factory.LoginAsync(account);
        var second = await factory.LoginAsync(account);
        var seed003 = await Seed003LoginAsync(account);
        factory.Clock.Advance(TimeSpan.FromSeconds(1));

        using var change = await Bearer(first.AccessToken).PostJsonAsync("/api/v1/me/password", new { current_password = account.Password, new_password = "another long passphrase" });
        change.StatusCode.ShouldBe(HttpStatusCode.OK);
        var fresh = (await change.JsonAsync()).GetProperty("data").GetProperty("access_token").GetString()!;

        (await MeStatusAsync(first.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await MeStatusAsync(second.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await MeStatusAsync(seed003)).ShouldBe(HttpStatusCode.Unauthorized, "a session without a refresh token ends too");
        (await MeStatusAsync(fresh)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logout_everywhere_ends_the_access_tokens_of_every_session()
    {
        var account = await factory.RegisterAsync();
        var first = await factory.LoginAsync(account);
        var second = await factory.LoginAsync(account);

        using var logout = await Bearer(first.AccessToken).PostJsonAsync("/api/v1/auth/logout", new { scope = "all" });
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await logout.JsonAsync()).GetProperty("data").GetProperty("sessions_ended").GetInt32().ShouldBe(2);

        (await MeStatusAsync(first.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await MeStatusAsync(second.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await factory.DbAsync(db => db.Set<EndedSession>().CountAsync(s => s.UserId == account.Id, Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task The_seed_000_refresh_rotates_and_a_replayed_token_ends_the_session()
    {
        var account = await factory.RegisterAsync();
        using var client = factory.Client();
        using var login = await client.PostJsonAsync("/api/token/user/", new { username = account.UserName, password = account.Password });
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var refresh = Cookie(login, "aap_refresh");

        using var first = await client.PostJsonAsync("/api/token/refresh/", new { refresh });
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var rotated = await first.JsonAsync();
        rotated.EnumerateObject().Select(p => p.Name).ShouldBe(["access", "refresh"]);
        var successor = rotated.GetProperty("refresh").GetString()!;
        successor.ShouldNotBe(refresh);
        var access = rotated.GetProperty("access").GetString()!;
        (await MeStatusAsync(access)).ShouldBe(HttpStatusCode.OK);

        using var replay = await client.PostJsonAsync("/api/token/refresh/", new { refresh });

        var problem = await Problem.ReadAsync(replay, HttpStatusCode.BadRequest, "invalid_refresh_token");
        problem.GetProperty("detail").GetString().ShouldBe("Invalid refresh token.");
        using var next = await client.PostJsonAsync("/api/token/refresh/", new { refresh = successor });
        await Problem.ReadAsync(next, HttpStatusCode.BadRequest, "invalid_refresh_token");
        (await MeStatusAsync(access)).ShouldBe(HttpStatusCode.Unauthorized, "reuse ends the session and its access tokens");
    }

    [Fact]
    public async Task A_refresh_token_is_refreshed_only_by_the_dialect_that_issued_it()
    {
        var account = await factory.RegisterAsync();
        var v1 = await factory.LoginAsync(account);
        using var seedLogin = await factory.Client().PostJsonAsync("/api/login/", new { email = account.Email, password = account.Password });
        var seed = (await seedLogin.JsonAsync()).GetProperty("refresh_token").GetString()!;

        using (var v1AtSeed000 = await factory.Client().PostJsonAsync("/api/token/refresh/", new { refresh = v1.RefreshToken }))
        {
            await Problem.ReadAsync(v1AtSeed000, HttpStatusCode.BadRequest, "invalid_refresh_token");
        }

        using (var v1AtSeed004 = await factory.Client().PostJsonAsync("/api/refresh/", new { refresh_token = v1.RefreshToken }))
        {
            await Problem.ReadAsync(v1AtSeed004, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        }

        using (var seedAtV1 = await factory.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = seed }))
        {
            await Problem.ReadAsync(seedAtV1, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        }

        using var v1AtV1 = await factory.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = v1.RefreshToken });
        v1AtV1.StatusCode.ShouldBe(HttpStatusCode.OK, "a token presented to another dialect's route is neither used nor revoked");
        using var seedAtSeed = await factory.Client().PostJsonAsync("/api/refresh/", new { refresh_token = seed });
        seedAtSeed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_seed_003_login_stores_no_refresh_token()
    {
        var account = await factory.RegisterAsync();

        var access = await Seed003LoginAsync(account);

        (await MeStatusAsync(access)).ShouldBe(HttpStatusCode.OK);
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id, Ct))).ShouldBe(0);
        using var logout = await Bearer(access).PostAsync("/api/v1/auth/logout", null, Ct);
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await MeStatusAsync(access)).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Seed_004_tokens_carry_the_user_id_and_username_claims_of_the_seed()
    {
        var account = await factory.RegisterAsync();
        using var login = await factory.Client().PostJsonAsync("/api/login/", new { email = account.Email, password = account.Password });
        var pair = await login.JsonAsync();
        using var refreshed = await factory.Client().PostJsonAsync("/api/refresh/", new { refresh_token = pair.GetProperty("refresh_token").GetString() });
        var next = await refreshed.JsonAsync();

        foreach (var token in new[] { pair.GetProperty("access_token").GetString()!, next.GetProperty("access_token").GetString()! })
        {
            var claims = Payload(token);
            claims.GetProperty("user_id").GetInt64().ShouldBe(account.Id);
            claims.GetProperty("username").GetString().ShouldBe(account.UserName);
        }

        Payload((await factory.LoginAsync(account)).AccessToken).TryGetProperty("user_id", out _).ShouldBeFalse("v1 tokens keep their own shape");
    }

    private async Task<string> Seed003LoginAsync(TestAccount account)
    {
        using var login = await factory.Client().PostJsonAsync("/login", new { username = account.UserName, password = account.Password });
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await login.JsonAsync()).GetProperty("access_token").GetString()!;
    }

    private HttpClient Bearer(string accessToken)
    {
        var client = factory.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    private Task<HttpStatusCode> MeStatusAsync(string accessToken) => MeStatusAsync(factory, accessToken);

    internal static async Task<HttpStatusCode> MeStatusAsync(AapFactory node, string accessToken)
    {
        using var client = node.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await client.GetAsync("/api/v1/me", Ct);
        return response.StatusCode;
    }

    private static string Cookie(HttpResponseMessage response, string name) =>
        response.Headers.GetValues("Set-Cookie").Select(v => v.Split(';')[0].Split('=', 2)).First(p => p[0] == name)[1];

    internal static JsonElement Payload(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(part))).RootElement.Clone();
    }

    public sealed class OnSqlite(SqliteFactory factory) : SessionEndTests(factory), IClassFixture<SqliteFactory>
    {
        [Fact]
        public async Task Sessions_ended_before_a_restart_stay_ended_after_it()
        {
            var dataDirectory = Directory.CreateTempSubdirectory("aap-restart-").FullName;
            string access;
            var signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
            await using (var before = new SqliteFactory())
            {
                before.With("AAP_DATA_DIR", dataDirectory).With("Auth:SigningKey", signingKey);
                await before.InitializeAsync();
                var account = await before.RegisterAsync();
                var tokens = await before.LoginAsync(account);
                access = tokens.AccessToken;
                using var logout = await before.Client().PostJsonAsync("/api/v1/auth/logout", new { refresh_token = tokens.RefreshToken });
                logout.StatusCode.ShouldBe(HttpStatusCode.OK);
            }

            await using var after = new SqliteFactory();
            after.With("AAP_DATA_DIR", dataDirectory).With("Auth:SigningKey", signingKey);
            await after.InitializeAsync();

            (await MeStatusAsync(after, access)).ShouldBe(HttpStatusCode.Unauthorized);
        }
    }

    public sealed class OnPostgres(PostgresFactory factory) : SessionEndTests(factory), IClassFixture<PostgresFactory>
    {
        [Fact]
        public async Task A_session_ended_on_one_node_is_refused_by_the_others_at_once()
        {
            await using var other = PostgresFactory.AnotherNodeOf(factory);
            await other.InitializeAsync();
            var account = await factory.RegisterAsync();
            var tokens = await factory.LoginAsync(account);
            (await MeStatusAsync(other, tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);

            using var logout = await factory.Client().PostJsonAsync("/api/v1/auth/logout", new { refresh_token = tokens.RefreshToken });
            logout.StatusCode.ShouldBe(HttpStatusCode.OK);

            // The notification arrives in milliseconds; the loop only bounds a test that would otherwise hang.
            for (var tries = 0; await MeStatusAsync(other, tokens.AccessToken) != HttpStatusCode.Unauthorized; tries++)
            {
                tries.ShouldBeLessThan(100, "the other node still accepts the token of a session that ended");
                await Task.Delay(20, Ct);
            }

            await using var late = PostgresFactory.AnotherNodeOf(factory);
            await late.InitializeAsync();
            (await MeStatusAsync(late, tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized, "a node that starts later reads what ended before");
        }
    }
}
