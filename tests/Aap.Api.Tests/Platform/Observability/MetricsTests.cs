using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Jobs;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// <c>GET /metrics</c>: Prometheus text with ASP.NET Core's, the runtime's and AAP's own meters, labelled by route
/// template, served to loopback callers or to the holder of <c>Metrics:Token</c>.
/// </summary>
public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sign_ups_sign_ins_lockouts_and_refreshes_are_counted_by_outcome()
    {
        await using var host = new SqliteFactory();
        host.With("Auth:MaxFailedAttempts", "2");
        await host.InitializeAsync();
        var alice = await host.RegisterAsync();
        var bob = await host.RegisterAsync();
        var tokens = await host.LoginAsync(alice);
        using var client = host.Client();
        (await LoginAsync(client, bob.UserName!, "wrong password 1")).ShouldBe(HttpStatusCode.Unauthorized);
        (await LoginAsync(client, bob.UserName!, "wrong password 2")).ShouldBe(HttpStatusCode.Unauthorized);
        (await LoginAsync(client, bob.UserName!, "wrong password 3")).ShouldBe(HttpStatusCode.TooManyRequests);
        (await LoginAsync(client, "nobody_here", "wrong password 4")).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshAsync(client, tokens.RefreshToken)).ShouldBe(HttpStatusCode.OK);
        (await RefreshAsync(client, tokens.RefreshToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshAsync(client, Guid.NewGuid().ToString())).ShouldBe(HttpStatusCode.Unauthorized);

        var scrape = await ScrapeAsync(host);

        scrape.Sum("aap_identity_sign_ups_total", ("role", "user")).ShouldBe(2);
        scrape.Sum("aap_identity_sign_ins_total", ("outcome", "succeeded")).ShouldBe(1);
        scrape.Sum("aap_identity_sign_ins_total", ("outcome", "wrong_password")).ShouldBe(2);
        scrape.Sum("aap_identity_sign_ins_total", ("outcome", "locked_out")).ShouldBe(1);
        scrape.Sum("aap_identity_sign_ins_total", ("outcome", "unknown_user")).ShouldBe(1);
        scrape.Sum("aap_identity_lockouts_total", ("scope", "account")).ShouldBe(1);
        scrape.Sum("aap_identity_refreshes_total", ("outcome", "rotated")).ShouldBe(1);
        scrape.Sum("aap_identity_refreshes_total", ("outcome", "reused")).ShouldBe(1);
        scrape.Sum("aap_identity_refreshes_total", ("outcome", "invalid")).ShouldBe(1);
        scrape.Sum("aap_identity_refresh_reuse_detections_total").ShouldBe(1);
    }

    [Fact]
    public async Task Completions_points_uploads_and_catalog_cache_are_counted()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var appId = await host.AddAppAsync(points: 25);
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        (await user.GetAsync("/api/v1/apps", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await user.GetAsync("/api/v1/apps", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var screenshot = Images.Screenshot();
        using (var completed = await user.CompleteAsync(appId, screenshot))
        {
            completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
        }

        using (var again = await user.CompleteAsync(appId, Images.Screenshot()))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        }

        using (var refused = await user.PostAsync("/api/v1/files", new MultipartFormDataContent { { Images.Part("not an image"u8.ToArray()), "file", "a.png" } }, Ct))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        }

        var scrape = await ScrapeAsync(host);

        scrape.Sum("aap_rewards_completions_total", ("outcome", "approved")).ShouldBe(1);
        scrape.Sum("aap_rewards_completions_total").ShouldBe(2);
        scrape.Sum("aap_rewards_points_credited_total", ("reason", "completion")).ShouldBe(25);
        scrape.Sum("aap_files_uploads_total", ("category", "screenshots")).ShouldBe(1);
        scrape.Sum("aap_files_upload_bytes_total", ("category", "screenshots")).ShouldBe(screenshot.Length);
        scrape.Sum("aap_files_upload_refusals_total", ("reason", "unsupported_media_type")).ShouldBe(1);
        scrape.Sum("aap_apps_catalog_cache_lookups_total", ("result", "miss")).ShouldBeGreaterThanOrEqualTo(1);
        scrape.Sum("aap_apps_catalog_cache_lookups_total", ("result", "hit")).ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task Request_durations_are_labelled_by_route_template_however_many_ids_are_asked_for()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        for (var id = 1000; id < 1060; id++)
        {
            using var response = await user.GetAsync($"/api/v1/todos/{id}", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        for (var i = 0; i < 20; i++)
        {
            using var response = await user.GetAsync($"/no/such/path/{Guid.NewGuid():N}", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        var scrape = await ScrapeAsync(host);

        var counts = scrape.Of("http_server_request_duration_seconds_count").ToList();
        counts.Where(s => s.Labels.GetValueOrDefault("http_route") == "/api/v1/todos/{id}").Sum(s => s.Value).ShouldBe(60);
        counts.Select(s => s.Labels.GetValueOrDefault("http_route")).ShouldNotContain(r => r != null && r.Contains("100", StringComparison.Ordinal));
        scrape.Text.ShouldNotContain("/no/such/path");
        scrape.Text.ShouldNotContain("/api/v1/todos/1000");
        counts.Count.ShouldBeLessThan(20, "series grow with routes and statuses, not with ids or unknown paths");
    }

    [Fact]
    public async Task Job_runs_are_counted_by_job_and_outcome_with_their_duration()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var admin = await host.ClientForAsync(await host.CreateAdminAsync());
        using var run = await admin.PostAsync("/api/v1/admin/jobs/refresh-token-purge/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        (await admin.FinishedRunAsync("refresh-token-purge", id)).GetProperty("status").GetString().ShouldBe("succeeded");

        var scrape = await ScrapeAsync(host);

        scrape.Sum("aap_jobs_runs_total", ("job_name", "refresh-token-purge"), ("outcome", "succeeded")).ShouldBe(1);
        scrape.Sum("aap_jobs_run_duration_seconds_count", ("job_name", "refresh-token-purge"), ("outcome", "succeeded")).ShouldBe(1);
    }

    [Fact]
    public async Task Runtime_and_server_meters_are_exported()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();

        var scrape = await ScrapeAsync(host);

        scrape.Of("dotnet_gc_collections_total").ShouldNotBeEmpty(scrape.Text);
        scrape.Of("kestrel_active_connections").ShouldNotBeEmpty();
        scrape.Of("target_info").Single().Labels["service_name"].ShouldBe("aap");
    }

    [Fact]
    public async Task On_SQLite_the_memory_its_allocator_holds_is_a_gauge_and_on_PostgreSQL_there_is_none()
    {
        await using var sqlite = new SqliteFactory();
        await sqlite.InitializeAsync();
        using (var client = sqlite.Client())
        {
            // A page of the catalog: the connections have read pages of the database into their caches.
            (await client.GetAsync("/api/v1/apps", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var scrape = await ScrapeAsync(sqlite);
        var used = scrape.Sum("aap_sqlite_memory_bytes");
        used.ShouldBeGreaterThan(0, scrape.Text);
        scrape.Sum("aap_sqlite_memory_peak_bytes").ShouldBeGreaterThanOrEqualTo(used);

        await using var postgres = new PostgresFactory();
        await postgres.InitializeAsync();
        var onPostgres = await ScrapeAsync(postgres);
        onPostgres.Of("aap_sqlite_memory_bytes").ShouldBeEmpty();
        onPostgres.Of("aap_sqlite_memory_peak_bytes").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_per_request_meters_of_routing_authentication_authorization_and_rate_limiting_are_exported_only_when_named()
    {
        await using var plain = new SqliteFactory();
        await using var named = new SqliteFactory();
        named.With("Metrics:ExtraMeters:0", "Microsoft.AspNetCore.Routing").With("Metrics:ExtraMeters:1", "Microsoft.AspNetCore.Authorization");
        await plain.InitializeAsync();
        await named.InitializeAsync();
        foreach (var host in new[] { plain, named })
        {
            using var user = await host.ClientForAsync(await host.RegisterAsync());
            (await user.GetAsync("/api/v1/me", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await user.GetAsync("/api/v1/apps", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var byDefault = await ScrapeAsync(plain);
        byDefault.Of("http_server_request_duration_seconds_count").Select(s => s.Labels.GetValueOrDefault("http_route")).ShouldContain("/api/v1/me/");
        var perRequest = new[] { "aspnetcore_routing_", "aspnetcore_authentication_", "aspnetcore_authorization_", "aspnetcore_rate_limiting_", "aspnetcore_memory_pool_" };
        byDefault.Text.Split('\n').Where(line => !line.StartsWith('#') && perRequest.Any(line.StartsWith)).ShouldBeEmpty(byDefault.Text);

        var withNamed = await ScrapeAsync(named);
        withNamed.Sum("aspnetcore_routing_match_attempts_total").ShouldBeGreaterThanOrEqualTo(2);
        withNamed.Sum("aspnetcore_authorization_attempts_total").ShouldBeGreaterThanOrEqualTo(1);
        withNamed.Of("aspnetcore_rate_limiting_requests_total").ShouldBeEmpty();
    }

    [Fact]
    public async Task Without_a_traceparent_the_log_events_of_a_request_carry_a_new_trace_id_of_their_own()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var client = host.Client();
        (await client.GetAsync("/api/v1/status", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/api/v1/status", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);

        await host.DisposeLoggingAsync();

        var traces = LogFiles.ReadAll(host.DataDirectory).Where(line => line.Contains("\"RequestPath\":\"/api/v1/status\"", StringComparison.Ordinal))
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, "\"@tr\":\"([0-9a-f]{32})\"").Groups[1].Value).ToList();
        traces.Count.ShouldBe(2);
        traces.ShouldAllBe(id => id.Length == 32 && id != new string('0', 32));
        traces.Distinct().Count().ShouldBe(2);
    }

    [Fact]
    public async Task A_second_host_in_the_process_does_not_count_the_firsts_traffic()
    {
        await using var first = new SqliteFactory();
        await using var second = new SqliteFactory();
        await first.InitializeAsync();
        await second.InitializeAsync();

        await first.RegisterAsync();

        (await ScrapeAsync(first)).Sum("aap_identity_sign_ups_total").ShouldBe(1);
        (await ScrapeAsync(second)).Sum("aap_identity_sign_ups_total").ShouldBe(0);
    }

    [Fact]
    public async Task With_a_token_a_scrape_must_present_it()
    {
        const string token = "scrape-token-0123456789";
        await using var host = new SqliteFactory();
        host.With("Metrics:Token", token);
        await host.InitializeAsync();
        using var client = host.Client();

        using var anonymous = await client.GetAsync("/metrics", Ct);
        using var wrong = await SendAsync(client, "wrong-token-0123456789");
        using var right = await SendAsync(client, token);

        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await anonymous.JsonAsync()).GetProperty("code").GetString().ShouldBe("unauthorized");
        anonymous.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await right.Content.ReadAsStringAsync(Ct)).ShouldContain("# TYPE");

        static Task<HttpResponseMessage> SendAsync(HttpClient client, string bearer)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return client.SendAsync(request, Ct);
        }
    }

    [Fact]
    public async Task Without_a_token_only_loopback_callers_are_served()
    {
        await using var host = new SqliteFactory();
        host.With("Http:TrustForwardedHeaders", "true").With("Http:KnownNetworks:0", "127.0.0.0/8").With("Http:KnownNetworks:1", "::1/128");
        await host.InitializeAsync();
        using var client = host.Client();

        using var local = await client.GetAsync("/metrics", Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var remote = await client.SendAsync(request, Ct);

        local.StatusCode.ShouldBe(HttpStatusCode.OK);
        remote.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await remote.JsonAsync()).GetProperty("code").GetString().ShouldBe("forbidden");
    }

    [Fact]
    public async Task Metrics_can_be_switched_off()
    {
        await using var host = new SqliteFactory();
        host.With("Metrics:Enabled", "false");
        await host.InitializeAsync();
        using var client = host.Client();

        using var response = await client.GetAsync("/metrics", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_short_metrics_token_stops_start_up()
    {
        await using var host = new SqliteFactory();
        host.With("Metrics:Token", "short");

        var error = await Should.ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain("Metrics:Token");
    }

    [Fact]
    public async Task Log_events_of_a_request_carry_its_trace_id()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var client = host.Client();
        var traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apps");
        request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}-01");
        using var response = await client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        await host.DisposeLoggingAsync();

        var events = LogFiles.ReadAll(host.DataDirectory).Where(line => line.Contains("\"RequestPath\":\"/api/v1/apps\"", StringComparison.Ordinal)).ToList();
        events.ShouldNotBeEmpty();
        events.ShouldAllBe(line => line.Contains($"\"@tr\":\"{traceId}\"", StringComparison.Ordinal));
    }

    internal static async Task<Scrape> ScrapeAsync(AapFactory host)
    {
        using var client = host.Client();
        using var response = await client.GetAsync("/metrics", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return new Scrape(text);
    }

    private static async Task<HttpStatusCode> LoginAsync(HttpClient client, string login, string password)
    {
        using var response = await client.PostAsync("/api/v1/auth/login", JsonBody.Of(System.Text.Json.JsonSerializer.Serialize(new { login, password })), Ct);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> RefreshAsync(HttpClient client, string refreshToken)
    {
        using var response = await client.PostAsync("/api/v1/auth/refresh", JsonBody.Of(System.Text.Json.JsonSerializer.Serialize(new { refresh_token = refreshToken })), Ct);
        return response.StatusCode;
    }
}
