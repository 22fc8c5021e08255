using System.Net;
using System.Text;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform;

/// <summary>Bad request bodies get a 4xx problem that says what is wrong, and nothing is written.</summary>
public abstract class RequestBodyTests(AapFactory factory)
{
    private const string Endpoint = "/api/v1/auth/register";
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("{\"email\": ", null)]
    [InlineData("{\"email\": \"a@b.test\", }", null)]
    [InlineData("not json at all", null)]
    [InlineData("[1, 2, 3]", null)]
    [InlineData("{\"email\": 123, \"password\": \"" + Accounts.Password + "\"}", "email")]
    [InlineData("{\"email\": [\"a@b.test\"], \"password\": \"" + Accounts.Password + "\"}", "email")]
    [InlineData("{\"email\": \"a@b.test\", \"password\": {\"nested\": true}}", "password")]
    [InlineData("{\"email\": \"a@b.test\", \"password\": true}", "password")]
    public async Task Malformed_or_mistyped_JSON_is_a_400_naming_the_field(string body, string? field)
    {
        var before = await UserCountAsync();

        using var response = await PostAsync(body, "application/json");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
        if (field is not null)
        {
            Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
        }

        (await UserCountAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task A_missing_body_is_a_400()
    {
        using var response = await _client.PostAsync(Endpoint, content: null, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task An_empty_object_is_a_validation_problem_listing_the_missing_fields()
    {
        using var response = await PostAsync("{}", "application/json");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "email").ShouldNotBeEmpty();
        Problem.FieldErrors(problem, "password").ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_body_that_is_not_JSON_is_a_415(string contentType)
    {
        using var response = await PostAsync($$"""{"email": "a@b.test", "password": "{{Accounts.Password}}"}""", contentType);

        await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Theory]
    [InlineData("application/json; charset=nope", "nope")]
    [InlineData("application/json; charset=utf-7", "utf-7")] // known to the runtime, which refuses to decode it
    [InlineData("application/json; charset=", "")]
    [InlineData("application/json; charset=\"\"", "\"\"")]
    [InlineData("application/merge-patch+json; charset=nope", "nope")]
    public async Task A_JSON_body_in_a_charset_that_cannot_be_read_is_a_415_naming_it(string contentType, string charset)
    {
        var before = await UserCountAsync();

        using var response = await PostRawAsync($$"""{"email": "charset@example.test", "password": "{{Accounts.Password}}"}""", contentType);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        problem.GetProperty("detail").GetString()!.ShouldContain($"charset '{charset}'");
        (await UserCountAsync()).ShouldBe(before);
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"")] // HTTP allows a quoted value
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=\"iso-8859-1\"")]
    public async Task A_JSON_body_in_a_readable_charset_quoted_or_not_is_read(string contentType)
    {
        var email = $"{Guid.NewGuid():N}@example.test";

        using var response = await PostRawAsync($$"""{"email": "{{email}}", "password": "{{Accounts.Password}}"}""", contentType);

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        var email = $"{Guid.NewGuid():N}@example.test";

        using var response = await PostAsync($$"""{"email": "{{email}}", "password": "{{Accounts.Password}}", "favourite_colour": "blue"}""", "application/json");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_and_nothing_is_written()
    {
        await using var small = factory.Provider == Api.Platform.Persistence.DatabaseProvider.Postgres ? (AapFactory)new PostgresFactory() : new SqliteFactory();
        small.With("Http:MaxRequestBodyBytes", "2048");
        await small.InitializeAsync();
        var padding = new string('x', 4096);

        using var response = await small.Client().PostAsync(Endpoint, new StringContent(
            $$"""{"email": "big@example.test", "password": "{{Accounts.Password}}", "padding": "{{padding}}"}""", Encoding.UTF8, "application/json"), Ct);

        await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        (await small.DbAsync(db => db.Set<User>().CountAsync(Ct))).ShouldBe(0);
    }

    private Task<HttpResponseMessage> PostAsync(string body, string contentType) =>
        _client.PostAsync(Endpoint, new StringContent(body, Encoding.UTF8, contentType), Ct);

    /// <summary>A POST whose Content-Type is sent exactly as given, unchecked by the client.</summary>
    private Task<HttpResponseMessage> PostRawAsync(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType).ShouldBeTrue();
        return _client.PostAsync(Endpoint, content, Ct);
    }

    private Task<int> UserCountAsync() => factory.DbAsync(db => db.Set<User>().CountAsync(Ct));

    public sealed class OnSqlite(SqliteFactory factory) : RequestBodyTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : RequestBodyTests(factory), IClassFixture<PostgresFactory>;
}
