using System.Net;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Browser;

/// <summary><c>GET /</c> points a newcomer to the docs until the portal has a page there.</summary>
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

    [Fact]
    public async Task A_browser_gets_a_page_linking_to_the_docs_the_document_and_the_readme_with_the_security_headers()
    {
        using var response = await GetHomeAsync(factory, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        var html = await response.Content.ReadAsStringAsync(Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        html.ShouldContain("""<a href="/docs">""");
        html.ShouldContain("""<a href="/openapi/v1.json">""");
        html.ShouldContain("README.md");
        response.Headers.Vary.ShouldContain("Accept");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData(null)]
    public async Task Any_other_client_gets_the_same_links_as_JSON(string? accept)
    {
        using var response = await GetHomeAsync(factory, accept);
        var body = await response.JsonAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        body.GetProperty("docs").GetString().ShouldBe("/docs");
        body.GetProperty("openapi").GetString().ShouldBe("/openapi/v1.json");
        body.GetProperty("status").GetString().ShouldBe("/api/v1/status");
        body.GetProperty("readme").GetString().ShouldBe("README.md");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
    }

    [Fact]
    public async Task With_the_docs_switched_off_it_does_not_point_to_them()
    {
        await using var hidden = new SqliteFactory();
        hidden.With("OpenApi:Enabled", "false");
        await hidden.InitializeAsync();

        using var json = await GetHomeAsync(hidden, "application/json");
        using var page = await GetHomeAsync(hidden, "text/html");
        var body = await json.JsonAsync();
        var html = await page.Content.ReadAsStringAsync(Ct);

        body.GetProperty("docs").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        body.GetProperty("openapi").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        html.ShouldNotContain("href=\"/docs\"");
        html.ShouldContain("switched off");
    }
}
