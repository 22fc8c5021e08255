using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aap.Api.Platform.Observability;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// What a request leaves in the log file: its query string and chosen headers with every credential redacted, and,
/// only with <c>Log:RequestBodies</c> at Debug, its body truncated with secret fields masked.
/// </summary>
public sealed class LogRedactionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_password_sent_to_sign_in_never_reaches_the_log_file(bool debugBodies)
    {
        await using var host = await StartAsync(Host(debugBodies));
        var (userName, password) = await RegisterAsync(host);

        using var client = host.Client();
        using var login = await client.PostAsync("/api/v1/auth/login", JsonBody.Of(JsonSerializer.Serialize(new { login = userName, password })), Ct);
        using var wrong = await client.PostAsync("/api/v1/auth/login", JsonBody.Of(JsonSerializer.Serialize(new { login = userName, password = password + "-wrong" })), Ct);
        using var form = await client.PostAsync("/api/v1/auth/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["login"] = userName, ["password"] = password }), Ct);
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var tokens = (await login.JsonAsync()).GetProperty("data");
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        var log = string.Join("\n", lines);
        log.ShouldNotContain(password);
        log.ShouldNotContain(tokens.GetProperty("refresh_token").GetString()!);
        log.ShouldNotContain(tokens.GetProperty("access_token").GetString()!.Split('.')[2]);
        var bodies = BodyEvents(lines, "/api/v1/auth/login");
        if (!debugBodies)
        {
            bodies.ShouldBeEmpty();
            return;
        }

        bodies.Count.ShouldBe(3);
        bodies[0].GetProperty("RequestBody").GetString().ShouldBe($$"""{"login":"{{userName}}","password":"[redacted]"}""");
        bodies[2].GetProperty("RequestBody").GetString().ShouldBe($"login={userName}&password=[redacted]");
        bodies[2].GetProperty("RequestContentType").GetString().ShouldBe("application/x-www-form-urlencoded");
    }

    [Fact]
    public async Task A_bearer_token_and_a_refresh_cookie_never_reach_the_log_file()
    {
        await using var host = await StartAsync(Host(debugBodies: true));
        var account = await host.RegisterAsync();
        var tokens = await host.LoginAsync(account);

        using var client = host.Client();
        using var me = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        me.Headers.Add("Cookie", $"theme=dark; aap_refresh={tokens.RefreshToken}");
        using var meResponse = await client.SendAsync(me, Ct);
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/refresh");
        refresh.Headers.Add("Cookie", $"aap_refresh={tokens.RefreshToken}");
        using var refreshResponse = await client.SendAsync(refresh, Ct);
        meResponse.StatusCode.ShouldBe(HttpStatusCode.OK);
        var refreshBody = await refreshResponse.JsonAsync();
        refreshResponse.StatusCode.ShouldBe(HttpStatusCode.OK, refreshBody.ToString());
        refreshResponse.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("aap_refresh=", StringComparison.Ordinal));
        var renewed = refreshBody.GetProperty("data");
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        var log = string.Join("\n", lines);
        log.ShouldNotContain(tokens.RefreshToken);
        log.ShouldNotContain(tokens.AccessToken.Split('.')[2]);
        log.ShouldNotContain(renewed.GetProperty("refresh_token").GetString()!);
        log.ShouldNotContain(renewed.GetProperty("access_token").GetString()!.Split('.')[2]);
        var meHeaders = RequestEvent(lines, "/api/v1/me").GetProperty("RequestHeaders");
        meHeaders.GetProperty("Authorization").GetString().ShouldBe("Bearer [redacted]");
        meHeaders.GetProperty("Cookie").GetString().ShouldBe("theme=[redacted]; aap_refresh=[redacted]");
        var setCookies = RequestEvent(lines, "/api/v1/auth/refresh").GetProperty("ResponseHeaders").GetProperty("Set-Cookie")
            .EnumerateArray().Select(c => c.GetString()!).ToList();
        setCookies.ShouldContain(c => c.StartsWith("aap_refresh=[redacted]; ", StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));
        setCookies.ShouldContain(c => c.StartsWith("aap_access=[redacted]; ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_signed_file_link_signature_never_reaches_the_log_file_and_an_upload_body_is_not_logged()
    {
        await using var host = await StartAsync(Host(debugBodies: true));
        using var client = await host.ClientForAsync(await host.RegisterAsync());
        var file = new ByteArrayContent(Images.Pdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        using var upload = await client.PostAsync("/api/v1/files", new MultipartFormDataContent { { file, "file", "quarterly-figures.pdf" } }, Ct);
        var uploaded = await upload.JsonAsync();
        upload.StatusCode.ShouldBe(HttpStatusCode.Created, uploaded.ToString());
        var id = uploaded.GetProperty("data").GetProperty("id").GetInt64();

        using var link = await client.GetAsync($"/api/v1/files/{id}/link", Ct);
        var url = new Uri((await link.JsonAsync()).GetProperty("data").GetProperty("url").GetString()!);
        var signature = System.Web.HttpUtility.ParseQueryString(url.Query)["signature"]!;
        var expires = System.Web.HttpUtility.ParseQueryString(url.Query)["expires"]!;
        using var plain = host.Client();
        using var download = new HttpRequestMessage(HttpMethod.Get, url);
        download.Headers.Referrer = url;
        using var downloaded = await plain.SendAsync(download, Ct);
        downloaded.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await downloaded.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(Images.Pdf);
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        var log = string.Join("\n", lines);
        signature.Length.ShouldBe(64);
        log.ShouldNotContain(signature);
        var content = RequestEvent(lines, $"/api/v1/files/{id}/content");
        content.GetProperty("QueryString").GetString().ShouldBe($"?expires={expires}&signature=[redacted]");
        content.GetProperty("RequestHeaders").GetProperty("Referer").GetString().ShouldBe($"{url.GetLeftPart(UriPartial.Path)}?expires={expires}&signature=[redacted]");

        log.ShouldNotContain("quarterly-figures");
        log.ShouldNotContain("/Type /Catalog");
        var uploadBody = BodyEvents(lines, "/api/v1/files").ShouldHaveSingleItem();
        uploadBody.TryGetProperty("RequestBody", out _).ShouldBeFalse();
        uploadBody.GetProperty("RequestContentType").GetString()!.ShouldStartWith("multipart/form-data");
        uploadBody.GetProperty("RequestContentLength").GetInt64().ShouldBeGreaterThan(Images.Pdf.Length);
    }

    [Fact]
    public async Task A_query_string_is_kept_with_its_harmless_parameters_and_chosen_headers()
    {
        await using var host = await StartAsync(Host(debugBodies: false));
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apps?page=1&size=5&keyword=chess&token=zq-t0k3n&Sig=zq-s1g&api_key=zq-k3y&refresh_token=zq-r3fr3sh&X-Amz-Signature=zq-am2&code=zq-c0de");
        request.Headers.UserAgent.ParseAdd("log-test/1.0");
        request.Headers.Add("X-Api-Key", "never-a-logged-header");
        using var response = await client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        var apps = RequestEvent(lines, "/api/v1/apps");
        apps.GetProperty("QueryString").GetString().ShouldBe(
            "?page=1&size=5&keyword=chess&token=[redacted]&Sig=[redacted]&api_key=[redacted]&refresh_token=[redacted]&X-Amz-Signature=[redacted]&code=[redacted]");
        apps.GetProperty("RequestHeaders").GetProperty("User-Agent").GetString().ShouldBe("log-test/1.0");
        apps.GetProperty("RequestHeaders").TryGetProperty("X-Api-Key", out _).ShouldBeFalse();
        apps.GetProperty("ResponseHeaders").GetProperty("Content-Type").GetString()!.ShouldStartWith("application/json");
        var log = string.Join("\n", lines);
        // Each secret carries "zq-", which no hexadecimal id in the log (trace, span, connection) can contain by chance.
        foreach (var secret in new[] { "zq-t0k3n", "zq-s1g", "zq-k3y", "zq-r3fr3sh", "zq-am2", "zq-c0de", "never-a-logged-header" })
        {
            log.ShouldNotContain(secret);
        }
    }

    [Fact]
    public async Task Bodies_at_debug_are_masked_at_any_depth_and_truncated_and_the_endpoint_still_reads_them_whole()
    {
        await using var host = await StartAsync(Host(debugBodies: true).With("Log:RequestBodyLimitBytes", "512"));
        var tag = Guid.NewGuid().ToString("N")[..10];
        var password = $"pw {Guid.NewGuid():N}";
        var nested = new
        {
            username = $"user_{tag}",
            email = $"{tag}@example.test",
            password,
            profile = new { access_token = "at-123", settings = new[] { new { current_password = "cp-123", new_password = "np-123", theme = "dark" } } },
            secret = new { anything = "sec-123" },
        };
        using var client = host.Client();
        using var registered = await client.PostAsync("/api/v1/auth/register", JsonBody.Of(JsonSerializer.Serialize(nested)), Ct);
        registered.StatusCode.ShouldBe(HttpStatusCode.Created);

        var padding = new string('x', 1000);
        var secondPassword = $"pw {Guid.NewGuid():N}";
        using var long1 = await client.PostAsync("/api/v1/auth/register",
            JsonBody.Of(JsonSerializer.Serialize(new { note = padding, username = $"user2_{tag}", email = $"2{tag}@example.test", password = secondPassword })), Ct);
        var created = await long1.JsonAsync();
        long1.StatusCode.ShouldBe(HttpStatusCode.Created, created.ToString());
        created.GetProperty("data").GetProperty("email").GetString().ShouldBe($"2{tag}@example.test");
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        var log = string.Join("\n", lines);
        foreach (var secret in new[] { password, secondPassword, "at-123", "cp-123", "np-123", "sec-123" })
        {
            log.ShouldNotContain(secret);
        }

        var bodies = BodyEvents(lines, "/api/v1/auth/register");
        bodies.Count.ShouldBe(2);
        bodies[0].GetProperty("RequestBody").GetString().ShouldBe(
            $$"""{"username":"user_{{tag}}","email":"{{tag}}@example.test","password":"[redacted]","profile":{"access_token":"[redacted]","settings":[{"current_password":"[redacted]","new_password":"[redacted]","theme":"dark"}]},"secret":"[redacted]"}""");
        bodies[0].GetProperty("RequestBodyTruncated").GetBoolean().ShouldBeFalse();
        bodies[1].GetProperty("RequestBodyTruncated").GetBoolean().ShouldBeTrue();
        bodies[1].GetProperty("RequestBody").GetString().ShouldBe("{\"note\":");
        bodies[1].GetProperty("RequestContentLength").GetInt64().ShouldBeGreaterThan(1000);
    }

    [Theory]
    [InlineData("Debug", "false")]
    [InlineData("Information", "true")]
    public async Task Bodies_are_logged_only_with_the_setting_on_and_debug(string level, string setting)
    {
        await using var host = new SqliteFactory();
        host.With("Serilog:MinimumLevel:Default", level).With("Log:RequestBodies", setting);
        await host.InitializeAsync();
        using var client = host.Client();
        using var response = await client.PostAsync("/api/v1/auth/login", JsonBody.Of("""{"login":"nobody","password":"not-logged"}"""), Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory);
        RequestEvent(lines, "/api/v1/auth/login").GetProperty("StatusCode").GetInt32().ShouldBe(401);
        BodyEvents(lines, "/api/v1/auth/login").ShouldBeEmpty();
    }

    [Theory]
    [InlineData("password", true)]
    [InlineData("new_password", true)]
    [InlineData("refreshToken", true)]
    [InlineData("X-Amz-Signature", true)]
    [InlineData("apiKey", true)]
    [InlineData("sig", true)]
    [InlineData("client_secret", true)]
    [InlineData("keyword", false)]
    [InlineData("page", false)]
    [InlineData("signal", false)]
    [InlineData("category", false)]
    public void A_name_is_secret_by_its_words(string name, bool secret) => LogRedaction.IsSecretName(name).ShouldBe(secret);

    [Theory]
    [InlineData("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "Bearer [redacted]")]
    [InlineData("bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "bearer [redacted]")]
    [InlineData("Basic dXNlcjpodW50ZXIy", "Basic [redacted]")]
    [InlineData("Digest username=\"u\", response=\"r\"", "Digest [redacted]")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "[redacted]")]
    [InlineData(" Bearer x", "[redacted]")]
    public void An_authorization_header_keeps_only_its_scheme_as_sent(string value, string logged) =>
        LogRedaction.RedactAuthorization(value).ShouldBe(logged);

    [Fact]
    public void A_value_cut_by_the_truncation_is_left_out_rather_than_written_in_part()
    {
        var json = Encoding.UTF8.GetBytes("""{"a":"visible","b":"cut in the middle""");

        LogRedaction.MaskJson(json, complete: false).ShouldBe("""{"a":"visible","b":""");
        LogRedaction.MaskJson("not json"u8, complete: true).ShouldBeNull();
        LogRedaction.RedactForm("a=1&password=hunt", truncated: true).ShouldBe("a=1");
    }

    private static SqliteFactory Host(bool debugBodies)
    {
        var host = new SqliteFactory();
        if (debugBodies)
        {
            host.With("Serilog:MinimumLevel:Default", "Debug").With("Log:RequestBodies", "true");
        }

        return host;
    }

    private static async Task<AapFactory> StartAsync(AapFactory host)
    {
        await host.InitializeAsync();
        return host;
    }

    private static async Task<(string UserName, string Password)> RegisterAsync(AapFactory host)
    {
        var userName = $"user_{Guid.NewGuid().ToString("N")[..10]}";
        var password = $"pw {Guid.NewGuid():N}";
        using var client = host.Client();
        using var response = await client.PostJsonAsync("/api/v1/auth/register", new { username = userName, email = $"{userName}@example.test", password });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (userName, password);
    }

    /// <summary>The one request event of <paramref name="path"/>.</summary>
    private static JsonElement RequestEvent(IReadOnlyList<string> lines, string path) =>
        Events(lines).Where(e => e.TryGetProperty("StatusCode", out _) && e.GetProperty("RequestPath").GetString() == path).ShouldHaveSingleItem(string.Join("\n", lines));

    /// <summary>The body events of <paramref name="path"/>, in the order the requests came.</summary>
    private static List<JsonElement> BodyEvents(IReadOnlyList<string> lines, string path) =>
        Events(lines).Where(e => e.TryGetProperty("SourceContext", out var source) && source.GetString() == RequestBodyLogging.SourceContext
            && e.GetProperty("RequestPath").GetString() == path).ToList();

    private static IEnumerable<JsonElement> Events(IReadOnlyList<string> lines) =>
        lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).Where(e => e.TryGetProperty("RequestPath", out _));
}
