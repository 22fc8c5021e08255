using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Aap.Api.Tests.Platform.Observability;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// A token validated once is taken on its later requests without ASP.NET Core's authentication middleware
/// (<see cref="KnownTokenAuthentication"/>): the same caller, the same refusals, and anything the validator does not
/// know (a new token, an ended session, Basic credentials) through the framework's handler as before. ASP.NET Core's
/// authentication meter, which counts what goes through its middleware, tells the two paths apart.
/// </summary>
public sealed class KnownTokenAuthenticationTests
{
    private const string AuthenticationsCount = "aspnetcore_authentication_authenticate_duration_seconds_count";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_is_validated_by_the_handler_once_and_later_requests_bearer_or_cookie_get_the_same_caller()
    {
        await using var host = Counting();
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var tokens = await host.LoginAsync(account);
        using var bearer = host.Client();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        using var cookie = host.Client();
        cookie.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Access}={tokens.AccessToken}");

        var callers = new List<long>();
        foreach (var client in new[] { bearer, bearer, bearer, cookie, cookie })
        {
            using var me = await client.GetAsync("/api/v1/me", Ct);
            var body = await me.JsonAsync();
            me.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
            callers.Add(body.GetProperty("data").GetProperty("id").GetInt64());
        }

        callers.ShouldAllBe(id => id == account.Id);
        var scrape = await MetricsTests.ScrapeAsync(host);
        scrape.Sum(AuthenticationsCount).ShouldBe(1, "the first request's validation; the other four were taken as known");
        scrape.Sum(AuthenticationsCount, ("aspnetcore_authentication_scheme", AapAuthenticationHandler.SchemeName), ("aspnetcore_authentication_result", "success")).ShouldBe(1);
    }

    [Fact]
    public async Task A_known_token_whose_session_ended_goes_to_the_handler_and_is_refused_as_invalid()
    {
        await using var host = Counting();
        await host.InitializeAsync();
        var tokens = await host.LoginAsync(await host.RegisterAsync());
        using var client = host.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        (await client.GetAsync("/api/v1/me", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/api/v1/me", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var logout = await client.PostAsync("/api/v1/auth/logout", null, Ct);
        logout.StatusCode.ShouldBe(HttpStatusCode.OK, await logout.Content.ReadAsStringAsync(Ct));
        var before = (await MetricsTests.ScrapeAsync(host)).Sum(AuthenticationsCount);

        using var refused = await client.GetAsync("/api/v1/me", Ct);

        await Problem.ReadAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        refused.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
        var after = await MetricsTests.ScrapeAsync(host);
        after.Sum(AuthenticationsCount).ShouldBeGreaterThan(before, "an ended session's token is not taken as known");
        after.Sum(AuthenticationsCount, ("aspnetcore_authentication_result", "failure")).ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task Roles_are_checked_on_every_request_of_a_known_token()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        using var admin = await host.ClientForAsync(await host.CreateAdminAsync());

        for (var i = 0; i < 3; i++)
        {
            using var refused = await user.GetAsync("/api/v1/admin/users", Ct);
            await Problem.ReadAsync(refused, HttpStatusCode.Forbidden, "forbidden");
            using var listed = await admin.GetAsync("/api/v1/admin/users", Ct);
            listed.StatusCode.ShouldBe(HttpStatusCode.OK, await listed.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task Basic_credentials_and_other_schemes_still_go_through_the_handler()
    {
        await using var host = Counting();
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        using var basic = host.Client();
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{account.UserName}:{account.Password}")));
        using var other = host.Client();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Digest", "username=\"x\"");

        for (var i = 0; i < 2; i++)
        {
            using var me = await basic.GetAsync("/api/v1/me", Ct);
            me.StatusCode.ShouldBe(HttpStatusCode.OK, await me.Content.ReadAsStringAsync(Ct));
            using var refused = await other.GetAsync("/api/v1/me", Ct);
            await Problem.ReadAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }

        var scrape = await MetricsTests.ScrapeAsync(host);
        scrape.Sum(AuthenticationsCount, ("aspnetcore_authentication_result", "success")).ShouldBe(2, "each Basic request checks its password");
        scrape.Sum(AuthenticationsCount, ("aspnetcore_authentication_result", "failure")).ShouldBe(2, "each request of an unknown scheme is refused");
    }

    [Fact]
    public async Task A_tokens_identity_finds_its_claims_as_a_claims_identity_does_also_after_a_change()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var tokens = await host.LoginAsync(account);

        var identity = (await host.ServiceAsync<AccessTokenValidator, ClaimsIdentity?>(v => v.ValidateAsync(tokens.AccessToken)))!;

        identity.ShouldNotBeNull();
        identity.IsAuthenticated.ShouldBeTrue();
        identity.AuthenticationType.ShouldBe("Bearer");
        identity.Name.ShouldBe(account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        identity.FindFirst("SUB")!.Value.ShouldBe(identity.Name, "claim types are matched ignoring case");
        identity.FindFirst("sub")!.Subject.ShouldBeSameAs(identity);
        identity.FindFirst("nothing").ShouldBeNull();
        identity.HasClaim("role", "User").ShouldBeTrue();
        identity.HasClaim("ROLE", "User").ShouldBeTrue();
        identity.HasClaim("role", "user").ShouldBeFalse("claim values are matched exactly");
        new ClaimsPrincipal(identity).IsInRole("Admin").ShouldBeFalse();
        identity.Claims.Select(c => c.Type).ShouldBe(["sub", "role", "sid"], ignoreOrder: true);

        identity.AddClaim(new Claim("role", "Admin"));
        identity.HasClaim("role", "Admin").ShouldBeTrue();
        new ClaimsPrincipal(identity).IsInRole("Admin").ShouldBeTrue();
        identity.AddClaims([new Claim("extra", "1")]);
        identity.FindFirst("extra")!.Value.ShouldBe("1");
        identity.TryRemoveClaim(identity.FindFirst("sub")).ShouldBeTrue();
        identity.FindFirst("sub").ShouldBeNull();
        identity.HasClaim("sub", account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ShouldBeFalse();

        var next = (await host.ServiceAsync<AccessTokenValidator, ClaimsIdentity?>(v => v.ValidateAsync(tokens.AccessToken)))!;
        next.ShouldNotBeSameAs(identity);
        next.FindFirst("sub")!.Value.ShouldBe(account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "each request's identity is its own");
        next.HasClaim("role", "Admin").ShouldBeFalse();
    }

    private static SqliteFactory Counting()
    {
        var host = new SqliteFactory();
        host.With("Metrics:ExtraMeters:0", "Microsoft.AspNetCore.Authentication");
        return host;
    }
}
