using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aap.Api.Platform.Observability;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The one event each request leaves in the log file: what it holds, its level (Information, Error for a failure,
/// Debug for a health probe) and the source that sets that level alone.
/// </summary>
public sealed class RequestLoggingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_leaves_one_event_naming_the_request_its_caller_and_its_answer()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var tokens = await host.LoginAsync(account);
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me?view=full");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        request.Headers.Add("X-Request-ID", "request-log-one");
        using var response = await client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await host.DisposeLoggingAsync();

        var events = RequestEvents(LogFiles.ReadAll(host.DataDirectory), "request-log-one");
        var logged = events.ShouldHaveSingleItem();
        logged.TryGetProperty("@l", out _).ShouldBeFalse("Information is the compact format's default level and is not written");
        logged.GetProperty("@mt").GetString().ShouldBe("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms");
        logged.GetProperty("@tr").GetString()!.Length.ShouldBe(32);
        logged.GetProperty("SourceContext").GetString().ShouldBe(RequestLogging.SourceContext);
        logged.GetProperty("RequestMethod").GetString().ShouldBe("GET");
        logged.GetProperty("RequestPath").GetString().ShouldBe("/api/v1/me");
        logged.GetProperty("QueryString").GetString().ShouldBe("?view=full");
        logged.GetProperty("StatusCode").GetInt32().ShouldBe(200);
        logged.GetProperty("Elapsed").GetDouble().ShouldBeGreaterThan(0);
        logged.GetProperty("UserId").GetString().ShouldBe(account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        logged.GetProperty("RequestHeaders").GetProperty("Authorization").GetString().ShouldBe("Bearer [redacted]");
        logged.GetProperty("ResponseHeaders").GetProperty("Content-Type").GetString()!.ShouldStartWith("application/json");
        logged.GetProperty("ConnectionId").GetString().ShouldNotBeNullOrEmpty();
        logged.GetProperty("Application").GetString().ShouldBe("aap");
        // The properties set for the request come first, in this order, then what the logger's enrichers add.
        Names(logged).ShouldBe(
            ["UserId", "QueryString", "RequestHeaders", "ResponseHeaders", "RequestMethod", "RequestPath", "StatusCode", "Elapsed",
                "SourceContext", "ConnectionId", "RequestId", "Application"]);
    }

    [Fact]
    public async Task A_failed_request_is_an_error_the_events_it_caused_name_it_and_a_health_probe_is_not_logged_at_information()
    {
        await using var broken = await BrokenCatalogAsync();
        using var client = broken.Client();
        using var failed = await SendAsync(client, "/api/v1/apps", "request-log-failed");
        using var probe = await SendAsync(client, "/health/live", "request-log-probe");
        failed.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        probe.StatusCode.ShouldBe(HttpStatusCode.OK);
        await broken.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(broken.DataDirectory);
        var failure = RequestEvents(lines, "request-log-failed").ShouldHaveSingleItem();
        failure.GetProperty("@l").GetString().ShouldBe("Error");
        failure.GetProperty("StatusCode").GetInt32().ShouldBe(500);
        RequestEvents(lines, "request-log-probe").ShouldBeEmpty();

        // The events the code writes while the request runs (the exception handler's, the database's) name the same
        // request, its path and its connection.
        List<JsonElement> during = [.. lines.Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("RequestId", out var id) && id.GetString() == "request-log-failed")
            .Where(e => e.GetProperty("SourceContext").GetString() != RequestLogging.SourceContext)];
        during.ShouldContain(e => e.GetProperty("SourceContext").GetString() == "Aap.Api.Platform.Http.ProblemExceptionHandler");
        during.ShouldContain(e => e.GetProperty("SourceContext").GetString() == "Microsoft.EntityFrameworkCore.Database.Command");
        foreach (var logged in during)
        {
            logged.GetProperty("RequestPath").GetString().ShouldBe("/api/v1/apps");
            logged.GetProperty("ConnectionId").GetString().ShouldBe(failure.GetProperty("ConnectionId").GetString());
            logged.GetProperty("Application").GetString().ShouldBe("aap");
        }
    }

    [Fact]
    public async Task The_request_events_have_a_level_of_their_own_to_set()
    {
        await using var host = await BrokenCatalogAsync(
            ("Serilog:MinimumLevel:Default", "Information"), ("Serilog:MinimumLevel:Override:" + RequestLogging.SourceContext, "Warning"));
        using var client = host.Client();
        using var status = await SendAsync(client, "/api/v1/status", "request-log-quiet");
        using var failed = await SendAsync(client, "/api/v1/apps", "request-log-loud");
        status.StatusCode.ShouldBe(HttpStatusCode.OK);
        failed.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        RequestEvents(lines, "request-log-quiet").ShouldBeEmpty();
        RequestEvents(lines, "request-log-loud").ShouldHaveSingleItem().GetProperty("@l").GetString().ShouldBe("Error");
        // Only the request events are quieter: the failure itself is still logged in full.
        lines.ShouldContain(line => line.Contains("Unhandled exception", StringComparison.Ordinal) && line.Contains("request-log-loud", StringComparison.Ordinal));
    }

    /// <summary>A service whose catalog fails for real: its apps table is gone, so <c>GET /api/v1/apps</c> answers 500.</summary>
    private static async Task<SqliteFactory> BrokenCatalogAsync(params (string Key, string Value)[] settings)
    {
        var host = new SqliteFactory();
        foreach (var (key, value) in settings)
        {
            host.With(key, value);
        }

        await host.InitializeAsync();
        await host.DbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TABLE apps", Ct));
        return host;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Request-ID", requestId);
        return await client.SendAsync(request, Ct);
    }

    private static List<JsonElement> RequestEvents(IReadOnlyList<string> lines, string requestId) =>
        [.. lines.Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("SourceContext", out var source) && source.GetString() == RequestLogging.SourceContext
                && e.TryGetProperty("RequestId", out var id) && id.GetString() == requestId)];

    private static List<string> Names(JsonElement logged) =>
        [.. logged.EnumerateObject().Select(p => p.Name).Where(name => !name.StartsWith('@'))];
}
