using System.Net;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>The conventions every endpoint shares: envelope, problems, request ids, security headers.</summary>
public abstract class HttpConventionsTests(AapFactory factory)
{
    private readonly HttpClient _client = factory.Client();

    [Fact]
    public async Task Status_answers_in_the_data_envelope()
    {
        using var response = await _client.GetAsync("/api/v1/status", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var body = await response.JsonAsync();
        var data = body.GetProperty("data");
        data.GetProperty("name").GetString().ShouldBe("aap");
        data.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
        data.GetProperty("environment").GetString().ShouldBe("Testing");
        data.GetProperty("database").GetString().ShouldBe(factory.Provider.ToString().ToLowerInvariant());
        data.GetProperty("server_time").GetDateTime().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);
        body.TryGetProperty("meta", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Every_response_carries_a_generated_request_id()
    {
        using var response = await _client.GetAsync("/api/v1/status", TestContext.Current.CancellationToken);

        var id = response.Headers.GetValues("X-Request-ID").Single();
        id.Length.ShouldBe(32);
        id.ShouldMatch("^[0-9a-f]{32}$");
    }

    [Fact]
    public async Task A_well_formed_request_id_from_the_caller_is_echoed_and_used_as_the_trace_id()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no/such/route");
        request.Headers.Add("X-Request-ID", "client-42.retry:1");

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        response.Headers.GetValues("X-Request-ID").Single().ShouldBe("client-42.retry:1");
        (await response.JsonAsync()).GetProperty("traceId").GetString().ShouldBe("client-42.retry:1");
    }

    [Theory]
    [InlineData("has spaces in it")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("a-request-id-of-129-characters-is-too-long-to-be-an-identifier-and-would-only-bloat-every-log-line-so-it-is-refused-xxxxxxxxxxxxx")]
    public async Task A_malformed_request_id_is_replaced(string requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
        request.Headers.TryAddWithoutValidation("X-Request-ID", requestId);

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        response.Headers.GetValues("X-Request-ID").Single().ShouldMatch("^[0-9a-f]{32}$");
    }

    [Fact]
    public async Task A_new_request_id_is_a_version_7_UUID_of_the_time_and_no_two_are_alike()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            using var response = await _client.GetAsync("/api/v1/status", TestContext.Current.CancellationToken);
            ids.Add(response.Headers.GetValues("X-Request-ID").Single());
        }

        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        ids.Distinct().Count().ShouldBe(ids.Count);
        foreach (var id in ids)
        {
            id.ShouldMatch("^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$");
            Guid.ParseExact(id, "N").Version.ShouldBe(7);
            var milliseconds = long.Parse(id[..12], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            milliseconds.ShouldBeInRange(before, after, $"the time of {id}");
        }

        ids.SequenceEqual(ids.OrderBy(id => id[..12], StringComparer.Ordinal)).ShouldBeTrue("ids made one after another sort by their time");
    }

    [Fact]
    public async Task Security_headers_are_on_every_response_and_the_server_is_not_named()
    {
        foreach (var path in new[] { "/api/v1/status", "/no/such/route", "/health/live" })
        {
            using var response = await _client.GetAsync(path, TestContext.Current.CancellationToken);

            Header(response, "Content-Security-Policy").ShouldBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
            Header(response, "X-Content-Type-Options").ShouldBe("nosniff");
            Header(response, "X-Frame-Options").ShouldBe("DENY");
            Header(response, "Referrer-Policy").ShouldBe("no-referrer");
            Header(response, "Permissions-Policy").ShouldContain("camera=()");
            response.Headers.Contains("Server").ShouldBeFalse();
            response.Headers.Contains("Strict-Transport-Security").ShouldBeFalse("HSTS is only sent over HTTPS");
        }
    }

    [Fact]
    public async Task The_docs_page_gets_the_policy_it_needs_and_no_more()
    {
        using var response = await _client.GetAsync("/docs/index.html", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var csp = Header(response, "Content-Security-Policy");
        csp.ShouldContain("script-src 'self'");
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldNotContain("*");
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        using var response = await _client.GetAsync("/api/v1/nothing-here", TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.NotFound, "not_found");
        problem.GetProperty("instance").GetString().ShouldBe("/api/v1/nothing-here");
        problem.GetProperty("detail").GetString()!.ShouldContain("/api/v1/nothing-here");
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem()
    {
        using var response = await _client.DeleteAsync("/api/v1/status", TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        problem.GetProperty("detail").GetString()!.ShouldContain("DELETE");
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint_with_an_operation_id()
    {
        using var response = await _client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var document = await response.JsonAsync();
        document.GetProperty("openapi").GetString()!.ShouldStartWith("3.");
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject())
            .ToList();
        operations.ShouldNotBeEmpty();
        operations.Where(op => !op.Value.TryGetProperty("operationId", out _)).Select(op => op.Name).ShouldBeEmpty();
        document.GetProperty("paths").TryGetProperty("/api/v1/status", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_in_JSON()
    {
        using var live = await _client.GetAsync("/health/live", TestContext.Current.CancellationToken);
        using var ready = await _client.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        live.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await live.JsonAsync()).GetProperty("status").GetString().ShouldBe("Healthy");
        ready.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await ready.JsonAsync();
        body.GetProperty("status").GetString().ShouldBe("Healthy");
        body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString().ShouldBe("Healthy");
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    public sealed class OnSqlite(SqliteFactory factory) : HttpConventionsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : HttpConventionsTests(factory), IClassFixture<PostgresFactory>;
}

internal static class Problem
{
    /// <summary>Asserts an RFC 9457 problem with the given status and code, and returns its body.</summary>
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", text);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        problem.GetProperty("status").GetInt32().ShouldBe((int)status);
        problem.GetProperty("code").GetString().ShouldBe(code);
        problem.GetProperty("title").GetString().ShouldNotBeNullOrEmpty();
        problem.GetProperty("type").GetString().ShouldNotBeNullOrEmpty();
        problem.GetProperty("traceId").GetString().ShouldBe(response.Headers.GetValues("X-Request-ID").Single());
        text.ShouldNotContain("   at ", customMessage: "no stack trace in a problem");
        return problem;
    }

    public static IReadOnlyList<string> FieldErrors(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToList();
}
