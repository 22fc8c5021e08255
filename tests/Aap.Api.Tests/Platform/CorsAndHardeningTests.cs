using System.Net;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Platform;

/// <summary>CORS allow and deny, HSTS behind a TLS-terminating proxy, and what a failing server shows.</summary>
public sealed class CorsAndHardeningTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string Allowed = "https://app.example.test";
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered()
    {
        using var response = await _client.SendAsync(Preflight(Allowed, "PATCH", "authorization,content-type,if-match"), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        Header(response, "Access-Control-Allow-Origin").ShouldBe(Allowed);
        Header(response, "Access-Control-Allow-Methods").ShouldContain("PATCH");
        Header(response, "Access-Control-Allow-Headers").ToLowerInvariant().ShouldContain("authorization");
        Header(response, "Access-Control-Allow-Credentials").ShouldBe("true");
        Header(response, "Access-Control-Max-Age").ShouldBe("600");
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://app.example.test.evil.example")]
    [InlineData("http://app.example.test")]
    [InlineData("null")]
    public async Task A_preflight_from_any_other_origin_gets_no_CORS_headers(string origin)
    {
        using var response = await _client.SendAsync(Preflight(origin, "POST", "content-type"), Ct);

        response.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
        response.Headers.Contains("Access-Control-Allow-Methods").ShouldBeFalse();
    }

    [Fact]
    public async Task A_method_outside_the_list_is_not_allowed_cross_origin()
    {
        using var response = await _client.SendAsync(Preflight(Allowed, "TRACE", "content-type"), Ct);

        Header(response, "Access-Control-Allow-Methods").ShouldNotContain("TRACE");
    }

    [Fact]
    public async Task A_simple_request_from_an_allowed_origin_exposes_the_useful_headers()
    {
        using var response = await GetWithHeaderAsync(_client, "/api/v1/apps", "Origin", Allowed);

        Header(response, "Access-Control-Allow-Origin").ShouldBe(Allowed);
        Header(response, "Access-Control-Expose-Headers").ShouldContain("Link");
        Header(response, "Access-Control-Expose-Headers").ShouldContain("X-Request-ID");
    }

    [Fact]
    public async Task A_simple_request_from_another_origin_gets_no_CORS_headers()
    {
        using var response = await GetWithHeaderAsync(_client, "/api/v1/apps", "Origin", "https://evil.example");

        response.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
    }

    [Fact]
    public async Task HSTS_is_sent_for_HTTPS_behind_a_trusted_proxy()
    {
        await using var proxied = new SqliteFactory();
        proxied.With("Http:TrustForwardedHeaders", "true").With("Http:KnownNetworks:0", "127.0.0.0/8").With("Http:KnownNetworks:1", "::1/128");
        await proxied.InitializeAsync();
        using var response = await GetWithHeaderAsync(proxied.Client(), "/api/v1/status", "X-Forwarded-Proto", "https");

        Header(response, "Strict-Transport-Security").ShouldBe("max-age=31536000; includeSubDomains");
    }

    [Fact]
    public async Task Forwarded_headers_are_ignored_unless_the_proxy_is_trusted()
    {
        using var response = await GetWithHeaderAsync(_client, "/api/v1/status", "X-Forwarded-Proto", "https");

        response.Headers.Contains("Strict-Transport-Security").ShouldBeFalse();
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_problem_that_reveals_nothing()
    {
        // A real fault: the table the endpoint reads is gone.
        await using var broken = new SqliteFactory();
        await broken.InitializeAsync();
        await broken.DbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TABLE apps", Ct));

        using var response = await broken.Client().GetAsync("/api/v1/apps", Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.InternalServerError, "internal_error");
        var text = problem.GetRawText();
        text.ShouldNotContain("no such table", Case.Insensitive);
        text.ShouldNotContain("SQLite", Case.Insensitive);
        text.ShouldNotContain("Exception");
        text.ShouldNotContain("SELECT", Case.Insensitive);
        problem.GetProperty("detail").GetString()!.ShouldContain("traceId");
    }

    [Fact]
    public async Task A_failure_is_logged_in_full_with_the_request_id()
    {
        await using var broken = new SqliteFactory();
        await broken.InitializeAsync();
        await broken.DbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TABLE apps", Ct));
        using var response = await GetWithHeaderAsync(broken.Client(), "/api/v1/apps", "X-Request-ID", "trace-me-500");
        response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        await broken.DisposeLoggingAsync();

        var log = LogFiles.ReadAll(broken.DataDirectory);
        var failure = log.Single(line => line.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) && line.Contains("Unhandled exception", StringComparison.Ordinal));
        failure.ShouldContain("\"RequestId\":\"trace-me-500\"");
        failure.ShouldContain("no such table: apps");
    }

    [Theory]
    [InlineData("Database:Provider", "Mysql", "Database:Provider")]
    [InlineData("Cors:AllowedOrigins:0", "https://app.example.test/path", "Cors:AllowedOrigins")]
    [InlineData("Http:MaxRequestBodyBytes", "12", "MaxRequestBodyBytes")]
    [InlineData("Database:SeedProfile", "production", "Database:SeedProfile")]
    public async Task A_bad_setting_stops_start_up_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var misconfigured = new SqliteFactory();
        misconfigured.With(key, value);

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await misconfigured.InitializeAsync());

        error.Message.ShouldContain(named);
    }

    private static async Task<HttpResponseMessage> GetWithHeaderAsync(HttpClient client, string path, string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(header, value);
        return await client.SendAsync(request, Ct);
    }

    private static HttpRequestMessage Preflight(string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/apps");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
