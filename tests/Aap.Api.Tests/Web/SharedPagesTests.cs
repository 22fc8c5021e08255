using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Web;

/// <summary>
/// The catalog's page is rendered once per audience (guests, users, admins) and served from the output cache
/// (SharedPages): what each caller sees is their own audience's page and nothing of another user, a write to the
/// catalog shows at once, the session is still renewed and checked on every request, and signing out works without
/// a token on the page (the sign-out page's form, with scripts or without).
/// </summary>
public sealed class SharedPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_apps_page_is_rendered_once_per_audience_and_each_caller_sees_their_own_navigation_and_no_one_elses_name()
    {
        var first = await factory.RegisterAsync();
        var second = await factory.RegisterAsync();
        var admin = await factory.CreateAdminAsync();
        using var client = RawClient();

        var (firstPage, _) = await GetAppsAsync(client, await CookiesOfAsync(first));
        var (firstAgain, firstAgainCached) = await GetAppsAsync(client, await CookiesOfAsync(first));
        var (secondPage, secondCached) = await GetAppsAsync(client, await CookiesOfAsync(second));
        var (adminPage, _) = await GetAppsAsync(client, await CookiesOfAsync(admin));
        var (adminAgain, adminAgainCached) = await GetAppsAsync(client, await CookiesOfAsync(admin));
        var (guestPage, _) = await GetAppsAsync(client, cookies: null);
        var (guestAgain, guestAgainCached) = await GetAppsAsync(client, cookies: null);

        firstAgainCached.ShouldBeTrue("the same user's second load is the cached rendering");
        secondCached.ShouldBeTrue("another user of the same audience gets the same rendering");
        adminAgainCached.ShouldBeTrue();
        guestAgainCached.ShouldBeTrue();
        secondPage.ShouldBe(firstAgain);
        firstAgain.ShouldBe(firstPage);
        foreach (var page in new[] { firstPage, secondPage, adminPage, guestPage })
        {
            page.ShouldNotContain("__RequestVerificationToken", Case.Sensitive, "a shared page carries no per-request secret");
            page.ShouldNotContain("request-verification-token");
            page.ShouldNotContain(first.UserName!);
            page.ShouldNotContain(second.UserName!);
            page.ShouldNotContain(admin.UserName!);
        }

        secondPage.ShouldContain("href=\"/account/sign-out\"");
        secondPage.ShouldNotContain("href=\"/admin\"", Case.Sensitive, "a user's page has no link to the admin panel");
        adminAgain.ShouldContain("href=\"/admin\"");
        adminAgain.ShouldContain("href=\"/account/sign-out\"");
        guestAgain.ShouldContain("href=\"/account/sign-in\"");
        guestAgain.ShouldNotContain("href=\"/account/sign-out\"");
    }

    [Fact]
    public async Task An_apps_page_served_from_the_cache_keeps_the_pages_headers_and_the_callers_own()
    {
        var account = await factory.RegisterAsync();
        var cookies = await CookiesOfAsync(account);
        using var client = RawClient();
        (await GetAppsAsync(client, cookies, "/apps?sort=name")).Cached.ShouldBeFalse("the first load of this address renders it");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/apps?sort=name") { Headers = { { "Cookie", cookies } } };
        using var response = await client.SendAsync(request, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.Age.ShouldNotBeNull("served from the cache");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'self'");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue("a signed-in page is never kept by a browser or a shared cache");
        response.Headers.GetValues("X-Request-ID").Single().ShouldNotBeEmpty();
        response.Headers.GetValues("RateLimit-Policy").Single().ShouldContain("\"user\"", Case.Sensitive, "counted under the caller's own account");
        response.Headers.Contains("Set-Cookie").ShouldBeFalse("nothing of the request that rendered it is replayed");
    }

    [Fact]
    public async Task A_write_to_the_catalog_shows_on_the_cached_apps_page_at_once()
    {
        var account = await factory.RegisterAsync();
        var cookies = await CookiesOfAsync(account);
        using var client = RawClient();
        await GetAppsAsync(client, cookies);
        (await GetAppsAsync(client, cookies)).Cached.ShouldBeTrue();
        var name = $"Fresh app {Guid.NewGuid():N}"[..24];

        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var created = await admin.PostJsonAsync("/api/v1/apps", new { name, link = "https://example.com/fresh", points = 5 });
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var (page, cached) = await GetAppsAsync(client, cookies);

        cached.ShouldBeFalse("the write evicted the catalog's pages");
        page.ShouldContain(name);
    }

    [Fact]
    public async Task An_htmx_request_gets_the_results_region_and_a_full_load_the_whole_page_each_from_its_own_entry()
    {
        var cookies = await CookiesOfAsync(await factory.RegisterAsync());
        using var client = RawClient();

        for (var i = 0; i < 2; i++)
        {
            var (whole, _) = await GetAppsAsync(client, cookies, "/apps?sort=-points");
            var (region, regionCached) = await GetAppsAsync(client, cookies, "/apps?sort=-points", htmx: true);

            whole.ShouldStartWith("<!DOCTYPE html>");
            region.ShouldNotContain("<!DOCTYPE html>");
            region.ShouldContain("hx-swap-oob=\"true\"");
            regionCached.ShouldBe(i == 1);
        }
    }

    [Fact]
    public async Task A_cached_apps_page_still_renews_an_expired_session_and_a_session_ended_since_gets_the_guests_page()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var client = RawClient();
        await GetAppsAsync(client, await CookiesOfAsync(account));

        // Only the refresh cookie (the access cookie has expired and the browser dropped it): renewed, then the cached page.
        using var renewing = new HttpRequestMessage(HttpMethod.Get, "/apps") { Headers = { { "Cookie", $"{AuthCookies.Refresh}={tokens.RefreshToken}" } } };
        using var renewed = await client.SendAsync(renewing, Ct);
        var renewedPage = await renewed.Content.ReadAsStringAsync(Ct);
        renewed.StatusCode.ShouldBe(HttpStatusCode.OK);
        renewed.Headers.Age.ShouldNotBeNull("the user's page, from the cache");
        renewedPage.ShouldContain("href=\"/account/sign-out\"");
        Cookies(renewed).Keys.ShouldBe([AuthCookies.Access, AuthCookies.Refresh], ignoreOrder: true);

        // The session ends (through the API): the access cookie it had is refused at once, so the page is a guest's.
        var access = Cookies(renewed)[AuthCookies.Access];
        using var api = factory.Client();
        using var ended = await api.PostJsonAsync("/api/v1/auth/logout", new { refresh_token = Cookies(renewed)[AuthCookies.Refresh] });
        ended.StatusCode.ShouldBe(HttpStatusCode.OK);
        var (afterPage, _) = await GetAppsAsync(client, $"{AuthCookies.Access}={access}");

        afterPage.ShouldContain("href=\"/account/sign-in\"");
        afterPage.ShouldNotContain("href=\"/account/sign-out\"");
    }

    [Fact]
    public async Task Without_scripts_the_sign_out_link_opens_a_page_whose_form_ends_the_session_and_the_form_needs_its_token()
    {
        var account = await factory.RegisterAsync();
        var cookies = await CookiesOfAsync(account);
        using var client = RawClient();
        using var get = new HttpRequestMessage(HttpMethod.Get, "/account/sign-out") { Headers = { { "Cookie", cookies } } };
        using var page = await client.SendAsync(get, Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("<button type=\"submit\">Sign out of this browser</button>");
        var (token, antiforgery) = await RawPages.AntiforgeryAsync(page, Ct);

        using var withoutToken = await PostSignOutAsync(client, $"{cookies}; {antiforgery}", token: null);
        withoutToken.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var signedOut = await PostSignOutAsync(client, $"{cookies}; {antiforgery}", token);

        signedOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedOut.Headers.Location!.ToString().ShouldBe("/");
        signedOut.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith($"{AuthCookies.Refresh}=;", StringComparison.Ordinal));
        (await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).Select(t => t.RevokedReason).ToListAsync(Ct)))
            .ShouldAllBe(reason => reason == "logout");
    }

    private Task<HttpResponseMessage> PostSignOutAsync(HttpClient client, string cookies, string? token)
    {
        var fields = token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["__RequestVerificationToken"] = token };
        var request = new HttpRequestMessage(HttpMethod.Post, "/account/sign-out") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("Cookie", cookies);
        request.Headers.Add("Origin", factory.ServerAddress.GetLeftPart(UriPartial.Authority));
        return client.SendAsync(request, Ct);
    }

    /// <summary>The page at <paramref name="path"/> with these cookies, and whether the output cache answered it.</summary>
    private static async Task<(string Html, bool Cached)> GetAppsAsync(HttpClient client, string? cookies, string path = "/apps", bool htmx = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookies is not null)
        {
            request.Headers.Add("Cookie", cookies);
        }

        if (htmx)
        {
            request.Headers.Add("HX-Request", "true");
        }

        using var response = await client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadAsStringAsync(Ct), response.Headers.Age is not null);
    }

    /// <summary>The cookies a browser signed in as this account sends: a fresh access token and its refresh token.</summary>
    private async Task<string> CookiesOfAsync(TestAccount account)
    {
        var tokens = await factory.LoginAsync(account);
        return $"{AuthCookies.Access}={tokens.AccessToken}; {AuthCookies.Refresh}={tokens.RefreshToken}";
    }

    private HttpClient RawClient() => RawPages.Client(factory);

    private static Dictionary<string, string> Cookies(HttpResponseMessage response) => RawPages.Cookies(response);
}
