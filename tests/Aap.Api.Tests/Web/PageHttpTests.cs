using System.Net;
using System.Text.RegularExpressions;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Web;

/// <summary>
/// The pages over plain HTTP: antiforgery, the pages' security headers, the shared key ring, and the transparent
/// renewal of the session from the refresh cookie, with its reuse interval.
/// </summary>
public sealed class PageHttpTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_gets_400_with_a_page_that_says_why()
    {
        var account = await factory.RegisterAsync();
        using var client = RawClient();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.Login"] = account.UserName!, ["Input.Password"] = account.Password });

        using var response = await client.PostAsync("/account/sign-in", form, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        html.ShouldContain("<h1>The form could not be accepted</h1>");
        Cookies(response).Keys.ShouldNotContain(AuthCookies.Access, "nobody was signed in");
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id, Ct))).ShouldBe(0);
    }

    [Theory]
    [InlineData("DELETE", "/")]
    [InlineData("PUT", "/account/sign-in")]
    [InlineData("DELETE", "/tasks/%2e%2e")]
    public async Task A_page_answers_other_methods_with_405_a_problem_for_api_clients_and_a_page_for_browsers(string method, string path)
    {
        using var client = RawClient();

        using var api = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
        using var browser = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Headers = { { "Accept", "text/html" } } }, Ct);

        api.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        api.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        api.Content.Headers.Allow.ShouldBe(["GET", "HEAD", "POST"]);
        browser.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        browser.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
    }

    [Fact]
    public async Task A_form_posted_with_its_token_signs_in_and_keys_live_in_the_database()
    {
        var account = await factory.RegisterAsync();
        using var client = RawClient();
        using var page = await client.GetAsync("/account/sign-in", Ct);
        var (token, cookie) = await AntiforgeryAsync(page);

        using var response = await PostSignInAsync(client, account, token, cookie, "/account/sign-in?returnUrl=%2Fadmin");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync(Ct));
        response.Headers.Location!.ToString().ShouldBe("/admin");
        Cookies(response).Keys.ShouldBe([AuthCookies.Access, AuthCookies.Refresh], ignoreOrder: true);
        (await factory.DbAsync(db => db.Set<DataProtectionKey>().CountAsync(Ct))).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task One_antiforgery_cookie_gets_a_new_request_token_on_every_page_each_accepted_and_a_changed_cookie_is_refused()
    {
        var account = await factory.RegisterAsync();
        using var client = RawClient();
        using var first = await client.GetAsync("/account/sign-in", Ct);
        var (firstToken, cookie) = await AntiforgeryAsync(first);
        var tokens = new List<string> { firstToken };
        for (var i = 0; i < 3; i++)
        {
            // The same cookie again (its decryption is remembered): no new cookie, and a request token of its own.
            using var again = new HttpRequestMessage(HttpMethod.Get, "/account/sign-in") { Headers = { { "Cookie", cookie } } };
            using var page = await client.SendAsync(again, Ct);
            Cookies(page).Keys.ShouldNotContain(WebCookie);
            tokens.Add(RawPages.HiddenToken().Match(await page.Content.ReadAsStringAsync(Ct)).Groups[1].Value);
        }

        tokens.Distinct().Count().ShouldBe(tokens.Count, "every render encrypts a new request token");
        using (var refused = await PostSignInAsync(client, account, tokens[1], $"{WebCookie}={Changed(cookie[(WebCookie.Length + 1)..])}"))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "a changed cookie does not decrypt");
        }

        using (var otherToken = await PostSignInAsync(client, account, Changed(tokens[2]), cookie))
        {
            otherToken.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "a changed request token does not decrypt");
        }

        foreach (var token in tokens[1..])
        {
            using var accepted = await PostSignInAsync(client, account, token, cookie);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Redirect, await accepted.Content.ReadAsStringAsync(Ct));
        }
    }

    private const string WebCookie = "aap_antiforgery";

    /// <summary>The text with one character in its middle replaced by another base64url character.</summary>
    private static string Changed(string text) => $"{text[..(text.Length / 2)]}{(text[text.Length / 2] == 'A' ? 'B' : 'A')}{text[(text.Length / 2 + 1)..]}";

    private static Task<HttpResponseMessage> PostSignInAsync(HttpClient client, TestAccount account, string token, string cookie, string path = "/account/sign-in")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Login"] = account.UserName!, ["Input.Password"] = account.Password, ["__RequestVerificationToken"] = token,
            }),
        };
        request.Headers.Add("Cookie", cookie);
        return client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Pages_get_the_pages_policy_and_the_api_keeps_its_own()
    {
        using var client = RawClient();
        using var page = await client.GetAsync("/", Ct);
        using var api = await client.GetAsync("/api/v1/status", Ct);

        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        policy.ShouldContain("script-src 'self'");
        policy.ShouldContain("form-action 'self'");
        policy.ShouldNotContain("unsafe-inline");
        page.Headers.GetValues("Referrer-Policy").Single().ShouldBe("same-origin");
        api.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'");
        api.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer");
    }

    [Fact]
    public async Task A_page_is_never_cached_and_its_antiforgery_token_overrides_no_header_and_logs_no_warning()
    {
        using var client = RawClient();
        using var page = await client.GetAsync("/leaderboard", Ct);

        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync(Ct)).ShouldContain("name=\"request-verification-token\"");
        page.Headers.CacheControl!.NoStore.ShouldBeTrue();
        page.Headers.CacheControl.NoCache.ShouldBeTrue();
        page.Headers.Pragma.ToString().ShouldBe("no-cache");
        // Antiforgery logs this warning (a line in the file, under the sink's lock) when it finds other cache headers.
        LogFiles.ReadAll(factory.DataDirectory).Where(l => l.Contains("have been overridden", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_expired_access_cookie_is_renewed_and_two_requests_with_the_same_refresh_cookie_both_stay_signed_in()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        factory.Clock.Advance(TimeSpan.FromSeconds(31));
        using var client = RawClient();

        using var first = await GetHomeAsync(client, $"{AuthCookies.Access}={tokens.AccessToken}; {AuthCookies.Refresh}={tokens.RefreshToken}");
        using var second = await GetHomeAsync(client, $"{AuthCookies.Refresh}={tokens.RefreshToken}");
        var both = await Task.WhenAll(
            GetHomeAsync(client, $"{AuthCookies.Refresh}={tokens.RefreshToken}"),
            GetHomeAsync(client, $"{AuthCookies.Refresh}={tokens.RefreshToken}"));

        foreach (var (response, which) in new[] { first, second }.Concat(both).Select((r, i) => (r, i)))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK, $"response {which}");
            (await response.Content.ReadAsStringAsync(Ct)).ShouldContain($"Hello, {account.UserName}", customMessage: $"response {which}");
            Cookies(response).ShouldContainKey(AuthCookies.Access, $"response {which}");
        }

        // The first rotated the refresh token; the others came within the reuse interval: an access token only.
        Cookies(first)[AuthCookies.Refresh].ShouldNotBe(tokens.RefreshToken);
        Cookies(second).ShouldNotContainKey(AuthCookies.Refresh);
        var family = await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).ToListAsync(Ct));
        family.Count.ShouldBe(2);
        family.ShouldAllBe(t => t.RevokedAt == null);
        foreach (var response in both)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_replay_of_a_refresh_cookie_after_the_reuse_interval_ends_the_session()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var client = RawClient();
        using var renewed = await GetHomeAsync(client, $"{AuthCookies.Refresh}={tokens.RefreshToken}");
        var successor = Cookies(renewed)[AuthCookies.Refresh];

        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        using var replay = await GetHomeAsync(client, $"{AuthCookies.Refresh}={tokens.RefreshToken}");
        using var after = await GetHomeAsync(client, $"{AuthCookies.Refresh}={successor}");

        var replayed = await replay.Content.ReadAsStringAsync(Ct);
        replayed.ShouldContain("Welcome to AAP", customMessage: Heading(replayed));
        replay.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith($"{AuthCookies.Refresh}=;", StringComparison.Ordinal));
        (await after.Content.ReadAsStringAsync(Ct)).ShouldContain("Welcome to AAP");
        (await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).Select(t => t.RevokedReason).ToListAsync(Ct)))
            .ShouldAllBe(reason => reason == "reuse");
    }

    [Fact]
    public async Task The_api_refresh_route_keeps_treating_any_second_use_as_a_replay()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var client = RawClient();

        using var first = await client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        using var second = await client.PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).Select(t => t.RevokedReason).ToListAsync(Ct)))
            .ShouldAllBe(reason => reason == "reuse");
    }

    [Fact]
    public async Task Api_routes_are_never_renewed_from_the_refresh_cookie()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var client = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Add("Cookie", $"{AuthCookies.Refresh}={tokens.RefreshToken}");

        using var response = await client.SendAsync(request, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.Contains("Set-Cookie").ShouldBeFalse();
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id && t.UsedAt != null, Ct))).ShouldBe(0);
    }

    private HttpClient RawClient() => RawPages.Client(factory);

    private static string Heading(string html) => Regex.Match(html, "<h1>.*?</h1>").Value;

    private static async Task<HttpResponseMessage> GetHomeAsync(HttpClient client, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request, Ct);
    }

    private static Dictionary<string, string> Cookies(HttpResponseMessage response) => RawPages.Cookies(response);

    private static Task<(string Token, string Cookie)> AntiforgeryAsync(HttpResponseMessage page) => RawPages.AntiforgeryAsync(page, Ct);
}
