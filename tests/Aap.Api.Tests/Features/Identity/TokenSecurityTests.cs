using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// What an attacker can send instead of good credentials: forged, tampered and expired access tokens, junk refresh
/// tokens, malformed Basic credentials, look-alike and hidden-character account names, and extra fields that try
/// to set a role. Each forged token has a control, made the same way with nothing wrong, that passes.
/// </summary>
public abstract class TokenSecurityTests(AapFactory factory)
{
    private const string Me = "/api/v1/me";
    private const string AdminSettings = "/api/v1/admin/settings";
    private const string KeyId = "test-key";
    private const int AccessTokenLifetime = 30;

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private byte[] SigningKey => Convert.FromBase64String(factory.SigningKey);

    // Access tokens

    [Fact]
    public async Task An_access_token_from_login_authenticates()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);

        var me = await ShouldBeMeAsync(Bearer(tokens.AccessToken), account.Id);

        me.GetProperty("role").GetString().ShouldBe("User");
    }

    [Fact]
    public async Task An_access_token_lives_its_lifetime_plus_the_clock_skew_and_no_longer()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);

        factory.Clock.Advance(TimeSpan.FromSeconds(AccessTokenLifetime + 4));
        await ShouldBeMeAsync(Bearer(tokens.AccessToken), account.Id);

        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        using var response = await MeAsync(Bearer(tokens.AccessToken));
        await ShouldBeUnauthorizedAsync(response);
        response.Headers.WwwAuthenticate.ShouldContain(h => h.Scheme == "Bearer" && h.Parameter!.Contains("error=\"invalid_token\""));
    }

    [Theory]
    [InlineData("sub")]
    [InlineData("role")]
    public async Task A_token_whose_payload_was_changed_after_signing_is_rejected(string claim)
    {
        var account = await factory.RegisterAsync();
        var admin = await factory.CreateAdminAsync();
        var token = (await factory.LoginAsync(account)).AccessToken;
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload[claim] = claim == "sub" ? admin.Id.ToString(CultureInfo.InvariantCulture) : "Admin";
        var forged = $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";

        await ShouldBeMeAsync(Bearer(token), account.Id);
        await ShouldBeUnauthorizedAsync(Bearer(forged));
        using var settings = await SendAsync(HttpMethod.Get, AdminSettings, Bearer(forged));
        await ShouldBeUnauthorizedAsync(settings);
    }

    [Theory]
    [InlineData("its signature changed")]
    [InlineData("it cut short")]
    [InlineData("its signature left out")]
    [InlineData("garbage")]
    [InlineData("nothing")]
    [InlineData("a refresh token")]
    public async Task A_bearer_token_that_is_not_a_whole_signed_token_is_rejected(string sent)
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        var parts = tokens.AccessToken.Split('.');
        var token = sent switch
        {
            // The first character: the last one of a base64url HMAC partly encodes padding bits, so changing it may change nothing.
            "its signature changed" => $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}",
            "it cut short" => tokens.AccessToken[..^10],
            "its signature left out" => $"{parts[0]}.{parts[1]}",
            "garbage" => "not.a.jwt-at-all",
            "nothing" => "",
            "a refresh token" => tokens.RefreshToken,
            _ => throw new ArgumentOutOfRangeException(nameof(sent)),
        };

        await ShouldBeMeAsync(Bearer(tokens.AccessToken), account.Id);
        await ShouldBeUnauthorizedAsync(Bearer(token));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("nOnE")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task An_unsigned_token_or_one_of_another_algorithm_is_rejected_while_HS256_with_the_same_key_passes(string algorithm)
    {
        var account = await factory.RegisterAsync();
        var claims = Claims(account.Id);

        await ShouldBeMeAsync(Bearer(Encode("HS256", KeyId, claims)), account.Id);
        await ShouldBeUnauthorizedAsync(Bearer(Encode(algorithm, KeyId, claims)));
        await ShouldBeUnauthorizedAsync(Bearer(Encode(algorithm, keyId: null, claims)));
    }

    [Theory]
    [InlineData("signed with another key")]
    [InlineData("an unknown key id")]
    [InlineData("a path as key id")]
    [InlineData("SQL as key id")]
    [InlineData("another issuer")]
    [InlineData("another audience")]
    [InlineData("no expiry")]
    [InlineData("expired beyond the skew")]
    [InlineData("not valid yet beyond the skew")]
    public async Task A_token_wrong_in_one_respect_is_rejected_while_its_twin_passes(string flaw)
    {
        var account = await factory.RegisterAsync();

        await ShouldBeMeAsync(Bearer(Forge(account.Id)), account.Id);
        await ShouldBeUnauthorizedAsync(Bearer(Forge(account.Id, Flaw(flaw))));
    }

    [Fact]
    public async Task A_user_token_on_an_admin_endpoint_is_a_403_problem_and_no_token_a_401()
    {
        var user = await factory.RegisterAsync();
        var admin = await factory.CreateAdminAsync();

        using var asAdmin = await SendAsync(HttpMethod.Get, AdminSettings, Bearer((await factory.LoginAsync(admin)).AccessToken));
        using var asUser = await SendAsync(HttpMethod.Get, AdminSettings, Bearer((await factory.LoginAsync(user)).AccessToken));
        using var anonymous = await SendAsync(HttpMethod.Get, AdminSettings, authorization: null);

        asAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        await Problem.ReadAsync(asUser, HttpStatusCode.Forbidden, "forbidden");
        await ShouldBeUnauthorizedAsync(anonymous);
    }

    [Fact]
    public async Task Only_an_Authorization_header_or_the_access_cookie_is_a_credential_and_each_is_checked_wherever_it_comes()
    {
        // Authentication runs only for requests that carry one of these two; everything else is anonymous.
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);

        using var otherCookies = await CookieMeAsync($"theme=dark; aap_refresh={tokens.RefreshToken}");
        var problem = await ShouldBeUnauthorizedAsync(otherCookies);
        problem.GetProperty("detail").GetString().ShouldBe("Authentication is required.");
        otherCookies.Headers.WwwAuthenticate.ShouldNotContain(h => h.Parameter != null && h.Parameter.Contains("invalid_token"));

        using var accessCookie = await CookieMeAsync($"theme=dark; {AuthCookies.Access}={tokens.AccessToken}");
        var body = await accessCookie.JsonAsync();
        accessCookie.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        body.GetProperty("data").GetProperty("id").GetInt64().ShouldBe(account.Id);

        using var brokenCookie = await CookieMeAsync($"{AuthCookies.Access}=not-a-token");
        (await ShouldBeUnauthorizedAsync(brokenCookie)).GetProperty("detail").GetString().ShouldBe("The access token is invalid or has expired.");

        using var unsupported = await MeAsync("Digest username=\"x\"");
        (await ShouldBeUnauthorizedAsync(unsupported)).GetProperty("detail").GetString().ShouldBe("Authentication is required.");

        // A public route does not turn a bad credential into an error.
        using var status = await SendAsync(HttpMethod.Get, "/api/v1/status", Bearer("not-a-token"));
        status.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<HttpResponseMessage> CookieMeAsync(string cookies)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Add("Cookie", cookies);
        return await _client.SendAsync(request, Ct);
    }

    // Refresh tokens

    public static TheoryData<string, string> RefreshAttempts => new(
        from route in new[] { "/api/v1/auth/refresh", "/api/refresh/" }
        from sent in new[] { "malformed", "10 KB long", "SQL", "not a UUID", "a UUID of no token", "an access token", "null", "nothing", "no body", "a number", "an array", "an object" }
        select (route, sent));

    [Theory]
    [MemberData(nameof(RefreshAttempts))]
    public async Task A_refresh_value_that_is_not_a_live_refresh_token_is_refused_and_changes_nothing(string route, string sent)
    {
        var tokens = await factory.LoginAsync(await factory.RegisterAsync());
        string? body = sent switch
        {
            "malformed" => """{"refresh_token":"%%%-not-a-token-%%%"}""",
            "10 KB long" => $$"""{"refresh_token":"{{new string('a', 10 * 1024)}}"}""",
            "SQL" => """{"refresh_token":"' OR '1'='1"}""",
            "not a UUID" => """{"refresh_token":"12345"}""",
            "a UUID of no token" => $$"""{"refresh_token":"{{Guid.NewGuid():D}}"}""",
            "an access token" => $$"""{"refresh_token":"{{tokens.AccessToken}}"}""",
            "null" => """{"refresh_token":null}""",
            "nothing" => "{}",
            "no body" => null,
            "a number" => """{"refresh_token":12345}""",
            "an array" => """{"refresh_token":["' OR '1'='1"]}""",
            "an object" => """{"refresh_token":{"$ne":null}}""",
            _ => throw new ArgumentOutOfRangeException(nameof(sent)),
        };
        var before = await RefreshTokenStateAsync();

        using var response = await SendAsync(HttpMethod.Post, route, authorization: null, body);

        if (sent is "a number" or "an array" or "an object")
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
            problem.GetProperty("errors").TryGetProperty("refresh_token", out _).ShouldBeTrue();
        }
        else
        {
            await Problem.ReadAsync(response, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        }

        (await RefreshTokenStateAsync()).ShouldBe(before);
    }

    // Basic credentials

    [Fact]
    public async Task Basic_credentials_authenticate_by_username_and_by_email()
    {
        var account = await factory.RegisterAsync();

        await ShouldBeMeAsync(Basic(account.UserName!, account.Password), account.Id);
        await ShouldBeMeAsync(Basic(account.Email!, account.Password), account.Id);
    }

    [Fact]
    public async Task A_password_may_contain_colons_because_only_the_first_one_ends_the_user()
    {
        var account = await CreateAccountAsync($"colon_{Tag()}", $"{Tag()}@example.test", "pass:word:with:colons");

        await ShouldBeMeAsync(Basic(account.UserName!, account.Password), account.Id);
        await ShouldBeUnauthorizedAsync(Basic(account.UserName!, "pass:word"));
    }

    [Fact]
    public async Task Non_ASCII_names_and_passwords_work_in_Basic_as_UTF_8_only()
    {
        var account = await CreateAccountAsync($"Jürgen_Ærø_{Tag()}", $"{Tag()}@example.test", "pässwörd ✓ 日本語");

        await ShouldBeMeAsync(Basic(account.UserName!, account.Password), account.Id);
        await ShouldBeUnauthorizedAsync(Basic(account.UserName!, account.Password, Encoding.Latin1));
    }

    [Theory]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic dXNlcm5hbWUtd2l0aG91dC1jb2xvbg==")]
    [InlineData("Basic OnNvbWUgcGFzc3dvcmQ=")]
    [InlineData("Basic ")]
    public async Task Malformed_Basic_credentials_are_a_401_that_offers_Basic(string authorization)
    {
        await ShouldBeUnauthorizedAsync(authorization);
    }

    [Fact]
    public async Task A_wrong_password_in_Basic_is_a_401_that_offers_Basic()
    {
        var account = await factory.RegisterAsync();

        var problem = await ShouldBeUnauthorizedAsync(Basic(account.UserName!, "not the password"));

        problem.GetProperty("detail").GetString().ShouldBe("Invalid credentials.");
    }

    // Accounts

    [Theory]
    [InlineData("email")]
    [InlineData("username")]
    public async Task A_name_taken_in_one_letter_case_or_Unicode_form_is_taken_in_every_one(string field)
    {
        var tag = Tag();
        var taken = field == "email" ? $"Jos\u00e9.{tag}@Example.test" : $"Zo\u00eb_{tag}";
        await CreateAccountAsync(field == "username" ? taken : null, field == "email" ? taken : null, Accounts.Password);

        // Lower case, upper case, and the decomposed form (e + U+0301 instead of U+00E9).
        foreach (var lookAlike in new[] { taken.ToLowerInvariant(), taken.ToUpperInvariant(), taken.Normalize(System.Text.NormalizationForm.FormD) })
        {
            using var response = await RegisterAsync(new Dictionary<string, string> { [field] = lookAlike, ["password"] = Accounts.Password });
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
        }

        var normalized = taken.ToUpperInvariant();
        (await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.NormalizedEmail == normalized || u.NormalizedUserName == normalized, Ct))).ShouldBe(1);
    }

    [Theory]
    [InlineData("username", "\u0000")]
    [InlineData("username", "\u0007")]
    [InlineData("username", "\u001b")]
    [InlineData("username", "\u007f")]
    [InlineData("username", "\u200b")]
    [InlineData("username", "\u202e")]
    [InlineData("username", "\ufeff")]
    [InlineData("email", "\u0000")]
    [InlineData("email", "\u0007")]
    [InlineData("email", "\u200b")]
    [InlineData("email", "\u202e")]
    public async Task A_control_or_invisible_character_in_a_name_is_a_400_naming_the_field(string field, string character)
    {
        var tag = Tag();
        var username = field == "username" ? $"mal{character}lory_{tag}" : $"mallory_{tag}";
        var email = field == "email" ? $"mal{character}lory.{tag}@example.test" : $"{tag}@example.test";

        using var response = await RegisterAsync(new { username, email, password = Accounts.Password });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ShouldBe([field]);
    }

    [Fact]
    public async Task A_lone_surrogate_in_a_name_is_a_400_not_a_500()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/auth/register", authorization: null,
            $$"""{"username":"bad\ud800name_{{Tag()}}","password":"{{Accounts.Password}}"}""");

        await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task Registration_ignores_fields_that_try_to_set_the_role_id_or_password_hash()
    {
        var tag = Tag();
        using var response = await RegisterAsync(new Dictionary<string, object>
        {
            ["username"] = $"escalator_{tag}",
            ["email"] = $"{tag}@example.test",
            ["password"] = Accounts.Password,
            ["role"] = "Admin",
            ["id"] = 999,
            ["access_failed_count"] = 0,
            ["password_hash"] = "x",
        });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var data = (await response.JsonAsync()).GetProperty("data");
        var account = new TestAccount(data.GetProperty("id").GetInt64(), $"escalator_{tag}", $"{tag}@example.test", Accounts.Password);
        account.Id.ShouldNotBe(999);
        data.GetProperty("role").GetString().ShouldBe("User");
        (await ShouldBeMeAsync(Basic(account.UserName!, account.Password), account.Id)).GetProperty("role").GetString().ShouldBe("User");
        var stored = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == account.Id, Ct));
        (stored.Role, stored.PasswordHash == "x").ShouldBe(("User", false));
    }

    [Fact]
    public async Task Updating_the_profile_ignores_fields_that_try_to_set_the_role_id_or_password_hash()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.AccessFailedCount, 3), Ct));
        var before = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == account.Id, Ct));

        using var response = await client.PutAsync(Me, JsonBody.Of("""{"role":"Admin","id":999,"access_failed_count":0,"password_hash":"x"}"""), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var data = (await response.JsonAsync()).GetProperty("data");
        (data.GetProperty("id").GetInt64(), data.GetProperty("role").GetString()).ShouldBe((account.Id, "User"));
        var after = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == account.Id, Ct));
        (after.Role, after.PasswordHash, after.AccessFailedCount, after.UserName, after.Email)
            .ShouldBe((before.Role, before.PasswordHash, before.AccessFailedCount, before.UserName, before.Email));
        before.AccessFailedCount.ShouldBe(3);
        (await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.Id == 999, Ct))).ShouldBe(0);
    }

    [Fact]
    public async Task Unknown_user_wrong_password_and_deactivated_account_fail_login_identically()
    {
        var wrong = await factory.RegisterAsync();
        var deactivated = await factory.RegisterAsync();
        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == deactivated.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsActive, false), Ct));

        using var unknownResponse = await LoginAsync($"nobody_{Tag()}", Accounts.Password);
        using var wrongResponse = await LoginAsync(wrong.UserName!, "not the password");
        using var deactivatedResponse = await LoginAsync(deactivated.UserName!, deactivated.Password);

        var unknown = await Problem.ReadAsync(unknownResponse, HttpStatusCode.Unauthorized, "invalid_credentials");
        foreach (var response in new[] { wrongResponse, deactivatedResponse })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized, "invalid_credentials");
            (problem.GetProperty("title").GetString(), problem.GetProperty("detail").GetString())
                .ShouldBe((unknown.GetProperty("title").GetString(), unknown.GetProperty("detail").GetString()));
            (await WithoutRequestIdsAsync(response)).ShouldBe(await WithoutRequestIdsAsync(unknownResponse));
            response.Headers.WwwAuthenticate.ToString().ShouldBe(unknownResponse.Headers.WwwAuthenticate.ToString());
        }

        await ShouldBeUnauthorizedAsync(Basic(deactivated.UserName!, deactivated.Password));
    }

    // Helpers

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private static string Bearer(string token) => $"Bearer {token}";

    private static string Basic(string user, string password, Encoding? encoding = null) =>
        $"Basic {Convert.ToBase64String((encoding ?? Encoding.UTF8).GetBytes($"{user}:{password}"))}";

    /// <summary>Sends a request with this exact <c>Authorization</c> header (none when null) and, when given, this raw JSON body.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? authorization, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization).ShouldBeTrue();
        }

        if (json is not null)
        {
            request.Content = JsonBody.Of(json);
        }

        return await _client.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> MeAsync(string authorization) => SendAsync(HttpMethod.Get, Me, authorization);

    /// <summary>Asserts that <c>GET /api/v1/me</c> with this header answers 200 for this account, and returns its data.</summary>
    private async Task<JsonElement> ShouldBeMeAsync(string authorization, long accountId)
    {
        using var response = await MeAsync(authorization);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        var data = body.GetProperty("data");
        data.GetProperty("id").GetInt64().ShouldBe(accountId);
        return data;
    }

    /// <summary>Asserts that <c>GET /api/v1/me</c> with this header is a 401 problem that offers Bearer and Basic.</summary>
    private async Task<JsonElement> ShouldBeUnauthorizedAsync(string authorization)
    {
        using var response = await MeAsync(authorization);
        return await ShouldBeUnauthorizedAsync(response);
    }

    private static async Task<JsonElement> ShouldBeUnauthorizedAsync(HttpResponseMessage response)
    {
        var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        response.Headers.WwwAuthenticate.Select(h => h.Scheme).ShouldBe(["Bearer", "Basic"], ignoreOrder: true);
        return problem;
    }

    private Task<HttpResponseMessage> RegisterAsync(object body) => _client.PostJsonAsync("/api/v1/auth/register", body);

    private Task<HttpResponseMessage> LoginAsync(string login, string password) =>
        _client.PostJsonAsync("/api/v1/auth/login", new { login, password });

    private async Task<TestAccount> CreateAccountAsync(string? userName, string? email, string password)
    {
        using var response = await RegisterAsync(new { username = userName, email, password });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return new TestAccount(body.GetProperty("data").GetProperty("id").GetInt64(), userName, email, password);
    }

    /// <summary>A problem body without what differs on every request, to compare two problems to the byte.</summary>
    private static async Task<string> WithoutRequestIdsAsync(HttpResponseMessage response)
    {
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        problem.Remove("traceId");
        problem.Remove("instance");
        return problem.ToJsonString();
    }

    private Task<(int Total, int Used, int Revoked)> RefreshTokenStateAsync() => factory.DbAsync(async db =>
        (await db.Set<RefreshToken>().CountAsync(Ct),
         await db.Set<RefreshToken>().CountAsync(t => t.UsedAt != null, Ct),
         await db.Set<RefreshToken>().CountAsync(t => t.RevokedAt != null, Ct)));

    /// <summary>An access token as the application would issue it for this user, signed with its key, then changed by <paramref name="change"/>.</summary>
    private string Forge(long userId, Action<SecurityTokenDescriptor>? change = null)
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "aap",
            Audience = "aap-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(AccessTokenLifetime),
            SigningCredentials = Hs256(SigningKey, KeyId),
            Claims = new Dictionary<string, object> { ["sub"] = userId.ToString(CultureInfo.InvariantCulture), ["role"] = "User" },
        };
        change?.Invoke(descriptor);
        return Handler.CreateToken(descriptor);
    }

    private Action<SecurityTokenDescriptor> Flaw(string flaw) => flaw switch
    {
        "signed with another key" => d => d.SigningCredentials = Hs256(RandomNumberGenerator.GetBytes(48), KeyId),
        "an unknown key id" => d => d.SigningCredentials = Hs256(SigningKey, "other-key"),
        "a path as key id" => d => d.SigningCredentials = Hs256(SigningKey, "../../etc/passwd"),
        "SQL as key id" => d => d.SigningCredentials = Hs256(SigningKey, "' OR 1=1 --"),
        "another issuer" => d => d.Issuer = "not-aap",
        "another audience" => d => d.Audience = "not-aap-api",
        "no expiry" => d => d.Expires = null,
        "expired beyond the skew" => d => (d.IssuedAt, d.NotBefore, d.Expires) = (d.IssuedAt!.Value.AddSeconds(-60), d.IssuedAt!.Value.AddSeconds(-60), d.IssuedAt!.Value.AddSeconds(-6)),
        "not valid yet beyond the skew" => d => (d.NotBefore, d.Expires) = (d.IssuedAt!.Value.AddSeconds(6), d.IssuedAt!.Value.AddSeconds(60)),
        _ => throw new ArgumentOutOfRangeException(nameof(flaw)),
    };

    private static SigningCredentials Hs256(byte[] key, string keyId) =>
        new(new SymmetricSecurityKey(key) { KeyId = keyId }, SecurityAlgorithms.HmacSha256);

    /// <summary>The claims the application puts in an access token, as a hand-made token's payload.</summary>
    private Dictionary<string, object> Claims(long userId)
    {
        var now = factory.Clock.GetUtcNow().ToUnixTimeSeconds();
        return new()
        {
            ["iss"] = "aap",
            ["aud"] = "aap-api",
            ["sub"] = userId.ToString(CultureInfo.InvariantCulture),
            ["role"] = "User",
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + AccessTokenLifetime,
        };
    }

    /// <summary>
    /// A token encoded by hand with the application's key: <c>alg</c> names the HMAC it is signed with (HS256, HS384,
    /// HS512); any other <c>alg</c> gets an empty signature.
    /// </summary>
    private string Encode(string algorithm, string? keyId, Dictionary<string, object> payload)
    {
        var header = new Dictionary<string, string> { ["alg"] = algorithm, ["typ"] = "JWT" };
        if (keyId is not null)
        {
            header["kid"] = keyId;
        }

        var signed = $"{Base64UrlEncoder.Encode(JsonSerializer.Serialize(header))}.{Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload))}";
        var data = Encoding.ASCII.GetBytes(signed);
        var signature = algorithm switch
        {
            "HS256" => HMACSHA256.HashData(SigningKey, data),
            "HS384" => HMACSHA384.HashData(SigningKey, data),
            "HS512" => HMACSHA512.HashData(SigningKey, data),
            _ => [],
        };
        return $"{signed}.{Base64UrlEncoder.Encode(signature)}";
    }

    /// <summary>
    /// A remembered token gives every presentation an identity of its own (a claim added to one, as a handler might,
    /// is not in the next), with the caller's id, role and session, as a bearer token or as the access cookie.
    /// </summary>
    [Fact]
    public async Task Each_presentation_of_a_token_gets_an_identity_of_its_own_with_the_callers_id_role_and_session()
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        var validator = factory.Services.GetRequiredService<AccessTokenValidator>();

        var first = (await validator.ValidateAsync(tokens.AccessToken)).ShouldNotBeNull();
        var second = (await validator.ValidateAsync(tokens.AccessToken)).ShouldNotBeNull();
        var cookie = (await validator.ValidateAsync(tokens.AccessToken, AapAuthenticationHandler.ViaCookie)).ShouldNotBeNull();

        second.ShouldNotBeSameAs(first);
        first.AuthenticationType.ShouldBe("Bearer");
        cookie.AuthenticationType.ShouldBe(AapAuthenticationHandler.ViaCookie);
        var session = first.FindFirst(TokenService.SessionClaim)?.Value;
        Guid.TryParse(session, out _).ShouldBeTrue($"session claim '{session}'");
        foreach (var identity in new[] { first, second, cookie })
        {
            identity.IsAuthenticated.ShouldBeTrue();
            identity.Name.ShouldBe(account.Id.ToString(CultureInfo.InvariantCulture));
            new System.Security.Claims.ClaimsPrincipal(identity).IsInRole("User").ShouldBeTrue();
            new System.Security.Claims.ClaimsPrincipal(identity).IsInRole("Admin").ShouldBeFalse();
            identity.FindFirst(TokenService.SessionClaim)?.Value.ShouldBe(session);
        }

        first.AddClaim(new System.Security.Claims.Claim("role", "Admin"));
        var next = (await validator.ValidateAsync(tokens.AccessToken)).ShouldNotBeNull();
        new System.Security.Claims.ClaimsPrincipal(next).IsInRole("Admin").ShouldBeFalse();
    }

    public sealed class OnSqlite(SqliteFactory factory) : TokenSecurityTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : TokenSecurityTests(factory), IClassFixture<PostgresFactory>;
}
