using System.Net;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Browser;

/// <summary>
/// <c>GET /</c> is the user front (issue 14): a guest gets the welcome page with the ways in, and the footer keeps a
/// link to the browsable API. (It used to be a JSON/HTML page of links for API clients.)
/// </summary>
public sealed class HomePageTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> GetHomeAsync(AapFactory host, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await host.Client().SendAsync(request, Ct);
    }

    [Theory]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")]
    [InlineData("*/*")]
    [InlineData(null)]
    public async Task A_guest_gets_the_welcome_page_with_sign_in_sign_up_and_the_docs_with_the_security_headers(string? accept)
    {
        using var response = await GetHomeAsync(factory, accept);
        var html = await response.Content.ReadAsStringAsync(Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        html.ShouldContain("<h1>Welcome to AAP</h1>");
        html.ShouldContain("""<a class="button" href="/account/sign-in">""");
        html.ShouldContain("""href="/account/sign-up">""");
        html.ShouldContain("""<a href="/docs">""");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'; script-src 'self'");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
    }

    [Fact]
    public async Task With_the_docs_switched_off_it_does_not_point_to_them()
    {
        await using var hidden = new SqliteFactory();
        hidden.With("OpenApi:Enabled", "false");
        await hidden.InitializeAsync();

        using var page = await GetHomeAsync(hidden, "text/html");
        var html = await page.Content.ReadAsStringAsync(Ct);

        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("<h1>Welcome to AAP</h1>");
        html.ShouldNotContain("href=\"/docs\"");
    }
}
