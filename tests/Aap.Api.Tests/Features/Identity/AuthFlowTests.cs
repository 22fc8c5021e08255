using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>Sessions end to end: every seed's steps, rotation, logout, password change and cookies.</summary>
public abstract class AuthFlowTests(AapFactory factory)
{
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Seed_000_signs_up_logs_in_by_username_with_cookies_and_logs_out_from_the_cookies_alone()
    {
        var name = $"u{Guid.NewGuid():N}"[..16];

        using var signup = await PostRawAsync("/api/signup/", $$"""{"username": "{{name}}", "password": "{{Accounts.Password}}", "email": "{{name}}@example.com"}""");
        signup.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var login = await PostRawAsync("/api/login/", $$"""{"username": "{{name}}", "password": "{{Accounts.Password}}"}""");
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cookies = Cookies(login);
        cookies.ShouldContainKey("aap_access");
        cookies.ShouldContainKey("aap_refresh");
        var setCookies = login.Headers.GetValues("Set-Cookie").ToList();
        setCookies.ShouldAllBe(c => c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase) && c.Contains("secure", StringComparison.OrdinalIgnoreCase));
        // One refresh cookie, path /, so that the pages can renew an expired access token on any page request.
        setCookies.Where(c => c.StartsWith("aap_refresh=", StringComparison.Ordinal)).ShouldHaveSingleItem().ShouldContain("path=/;");

        using var me = await SendWithCookiesAsync(HttpMethod.Get, "/api/v1/me", cookies);
        me.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var logout = await SendWithCookiesAsync(HttpMethod.Post, "/api/logout/", cookies);
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        logout.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("aap_refresh=;", StringComparison.Ordinal));

        using var again = await SendWithCookiesAsync(HttpMethod.Post, "/api/v1/auth/refresh", cookies);
        await Problem.ReadAsync(again, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Seed_000_logout_with_nothing_to_identify_a_session_is_401()
    {
        using var response = await PostRawAsync("/api/logout/", "{}");

        await Problem.ReadAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Seed_000_token_endpoints_set_cookies_and_refresh_returns_an_access_token_and_its_successor()
    {
        var user = await factory.RegisterAsync();
        var admin = await factory.CreateAdminAsync();

        using var forUser = await PostRawAsync("/api/token/user/", $$"""{"username": "{{user.UserName}}", "password": "{{user.Password}}"}""");
        using var userAsAdmin = await PostRawAsync("/api/token/admin/", $$"""{"username": "{{user.UserName}}", "password": "{{user.Password}}"}""");
        using var forAdmin = await PostRawAsync("/api/token/admin/", $$"""{"username": "{{admin.UserName}}", "password": "{{admin.Password}}"}""");
        using var wrong = await PostRawAsync("/api/token/user/", $$"""{"username": "{{user.UserName}}", "password": "not the password"}""");

        forUser.StatusCode.ShouldBe(HttpStatusCode.OK);
        Cookies(forUser).ShouldContainKey("aap_access");
        var denied = await Problem.ReadAsync(userAsAdmin, HttpStatusCode.BadRequest, "invalid_credentials");
        denied.GetProperty("detail").GetString().ShouldBe("invalid credentials");
        forAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Problem.ReadAsync(wrong, HttpStatusCode.BadRequest, "invalid_credentials")).GetProperty("detail").GetString().ShouldBe("invalid credentials");

        var refresh = Cookies(forUser)["aap_refresh"];
        using var access = await PostRawAsync("/api/token/refresh/", $$"""{"refresh": "{{refresh}}"}""");
        access.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await access.JsonAsync();
        body.EnumerateObject().Select(p => p.Name).ShouldBe(["access", "refresh"]);
        Cookies(access)["aap_refresh"].ShouldBe(body.GetProperty("refresh").GetString());
        using var me = await SendAsync(HttpMethod.Get, "/api/v1/me", body.GetProperty("access").GetString()!);
        me.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var bad = await PostRawAsync("/api/token/refresh/", """{"refresh": "not-a-token"}""");
        await Problem.ReadAsync(bad, HttpStatusCode.BadRequest, "invalid_refresh_token");
    }

    [Theory]
    [InlineData("/api/register")]
    [InlineData("/api/register/")]
    public async Task Seed_routes_answer_with_and_without_the_trailing_slash(string path)
    {
        using var response = await PostRawAsync(path, $$"""{"password": "{{Accounts.Password}}", "email": "{{Guid.NewGuid():N}}@example.com"}""");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Login_and_refresh_answer_a_bearer_pair_that_is_never_cached()
    {
        var account = await factory.RegisterAsync();

        using var login = await _client.PostJsonAsync("/api/v1/auth/login", new { login = account.Email, password = account.Password });

        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        login.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var data = (await login.JsonAsync()).GetProperty("data");
        data.GetProperty("token_type").GetString().ShouldBe("Bearer");
        data.GetProperty("expires_in").GetInt32().ShouldBe(30);

        using var refresh = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = data.GetProperty("refresh_token").GetString() });
        refresh.StatusCode.ShouldBe(HttpStatusCode.OK);
        refresh.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task A_refresh_token_is_single_use_and_replaying_it_revokes_the_whole_session()
    {
        var account = await factory.RegisterAsync();
        var first = await factory.LoginAsync(account);

        var second = await RefreshAsync(first.RefreshToken);
        using var replay = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.RefreshToken });
        using var successorAfterReplay = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = second });

        (await Problem.ReadAsync(replay, HttpStatusCode.Unauthorized, "invalid_refresh_token")).GetProperty("detail").GetString()!.ShouldContain("already used");
        await Problem.ReadAsync(successorAfterReplay, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        var family = await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).ToListAsync(Ct));
        family.ShouldAllBe(t => t.RevokedAt != null);
        family.ShouldContain(t => t.RevokedReason == "reuse");
    }

    [Fact]
    public async Task Twenty_parallel_refreshes_of_one_token_yield_exactly_one_new_pair()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var client = factory.Client();
            using var response = await client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
            return response.StatusCode;
        }));

        responses.Count(s => s == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(s => s == HttpStatusCode.Unauthorized).ShouldBe(19);
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id, Ct))).ShouldBe(2, "the login's token and exactly one successor");
    }

    [Fact]
    public async Task Rotation_never_extends_the_session_beyond_its_absolute_lifetime()
    {
        var account = await factory.RegisterAsync();
        var refresh = (await factory.LoginAsync(account)).RefreshToken;

        // 90 days of family lifetime, refreshed every 29 days: the fourth refresh is past the family's end.
        for (var i = 0; i < 3; i++)
        {
            factory.Clock.Advance(TimeSpan.FromDays(29));
            refresh = await RefreshAsync(refresh);
        }

        factory.Clock.Advance(TimeSpan.FromDays(4));
        using var late = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = refresh });

        await Problem.ReadAsync(late, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Logout_with_scope_all_ends_every_session()
    {
        var account = await factory.RegisterAsync();
        var phone = await factory.LoginAsync(account);
        var laptop = await factory.LoginAsync(account);

        using var logout = await SendAsync(HttpMethod.Post, "/api/v1/auth/logout", phone.AccessToken, """{"scope": "all"}""");

        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await logout.JsonAsync()).GetProperty("data").GetProperty("sessions_ended").GetInt32().ShouldBe(2);
        using var refreshLaptop = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = laptop.RefreshToken });
        await Problem.ReadAsync(refreshLaptop, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_and_ends_the_other_sessions()
    {
        var account = await factory.RegisterAsync();
        var other = await factory.LoginAsync(account);
        var current = await factory.LoginAsync(account);

        using var wrong = await SendAsync(HttpMethod.Post, "/api/v1/me/password", current.AccessToken, """{"current_password": "nope nope", "new_password": "a brand new secret"}""");
        var problem = await Problem.ReadAsync(wrong, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "current_password").ShouldNotBeEmpty();

        using var changed = await SendAsync(HttpMethod.Post, "/api/v1/me/password", current.AccessToken, $$"""{"current_password": "{{account.Password}}", "new_password": "a brand new secret"}""");
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await changed.JsonAsync()).GetProperty("data").GetProperty("refresh_token").GetString().ShouldNotBeNullOrEmpty();

        using var refreshOther = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = other.RefreshToken });
        await Problem.ReadAsync(refreshOther, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        using var oldPassword = await _client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = account.Password });
        await Problem.ReadAsync(oldPassword, HttpStatusCode.Unauthorized, "invalid_credentials");
        using var newPassword = await _client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = "a brand new secret" });
        newPassword.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_deactivated_account_cannot_refresh()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsActive, false), Ct));

        using var refresh = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });

        await Problem.ReadAsync(refresh, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task A_cookie_authenticated_write_from_another_site_is_refused()
    {
        var account = await factory.RegisterAsync();
        using var login = await PostRawAsync("/api/login/", $$"""{"username": "{{account.UserName}}", "password": "{{account.Password}}"}""");
        var cookies = Cookies(login);

        using var crossSite = await SendWithCookiesAsync(HttpMethod.Patch, "/api/v1/me", cookies, """{"username": "hijacked"}""", origin: "https://evil.example");
        using var allowedOrigin = await SendWithCookiesAsync(HttpMethod.Patch, "/api/v1/me", cookies, """{"username": "renamed_by_spa"}""", origin: "https://app.example.test");
        using var noOrigin = await SendWithCookiesAsync(HttpMethod.Patch, "/api/v1/me", cookies, """{"username": "renamed_by_cli"}""");

        await Problem.ReadAsync(crossSite, HttpStatusCode.Forbidden, "cross_site_request");
        allowedOrigin.StatusCode.ShouldBe(HttpStatusCode.OK);
        noOrigin.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == account.Id).Select(u => u.UserName).SingleAsync(Ct))).ShouldBe("renamed_by_cli");
    }

    private async Task<string> RefreshAsync(string refreshToken)
    {
        using var response = await _client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = refreshToken });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        return body.GetProperty("data").GetProperty("refresh_token").GetString()!;
    }

    private Task<HttpResponseMessage> PostRawAsync(string path, string json) =>
        _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string accessToken, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return _client.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> SendWithCookiesAsync(HttpMethod method, string path, IReadOnlyDictionary<string, string> cookies, string? json = null, string? origin = null)
    {
        var request = new HttpRequestMessage(method, path)
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return _client.SendAsync(request, Ct);
    }

    private static Dictionary<string, string> Cookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0].Split('=', 2)).Where(p => p[1].Length > 0).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1])
            : [];

    public sealed class OnSqlite(SqliteFactory factory) : AuthFlowTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AuthFlowTests(factory), IClassFixture<PostgresFactory>;
}
