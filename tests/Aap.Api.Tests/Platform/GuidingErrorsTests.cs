using System.Net;
using System.Text;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Features.Todos;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Errors that say what would have worked: every bad field in one answer with the values or format it takes, a
/// missing body or missing credentials named as such, and a 415 that says which content type to send.
/// </summary>
public abstract class GuidingErrorsTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_bad_field_of_a_body_is_reported_in_one_answer_with_what_it_takes()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);

        using var response = await client.PostAsync("/api/v1/todos", JsonBody.Of(
            """{"title": 42, "status": "bogus", "priority": 2, "due_date": "2026-02-30", "description": "fine"}"""), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order().ShouldBe(["due_date", "priority", "status", "title"]);
        Problem.FieldErrors(problem, "status").ShouldBe(["Use one of pending, in_progress, completed."]);
        Problem.FieldErrors(problem, "priority").ShouldBe(["Use one of low, normal, high."]);
        Problem.FieldErrors(problem, "due_date").Single().ShouldContain("YYYY-MM-DD");
        Problem.FieldErrors(problem, "title").ShouldBe(["Use a string, in double quotes."]);
        problem.GetProperty("detail").GetString().ShouldBe("4 fields are invalid: title, status, priority, due_date.");
        (await factory.DbAsync(db => db.Set<TodoTask>().CountAsync(t => t.OwnerId == account.Id, Ct))).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"title": "ok", "status": "bogus"}""", "status", "Use one of pending, in_progress, completed.")]
    [InlineData("""{"title": "ok", "due_date": "tomorrow"}""", "due_date", "Use a date written YYYY-MM-DD, such as 2026-01-31.")]
    [InlineData("""{"title": "ok", "due_date": 20260101}""", "due_date", "Use a date written YYYY-MM-DD, such as 2026-01-31.")]
    [InlineData("""{"title": "\ud800"}""", "title", "Use valid Unicode text: the string contains an unpaired surrogate escape.")]
    public async Task A_single_bad_field_says_what_it_takes(string body, string field, string message)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.PostAsync("/api/v1/todos", JsonBody.Of(body), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
        Problem.FieldErrors(problem, field).ShouldBe([message]);
        problem.GetProperty("errors").EnumerateObject().Count().ShouldBe(1);
        problem.GetProperty("detail").GetString().ShouldBe($"'{field}': {message}");
    }

    [Fact]
    public async Task A_number_field_says_a_whole_number_and_its_range()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var quoted = await admin.PostAsync("/api/v1/apps", JsonBody.Of("""{"name": "A", "points": "ten", "link": "https://example.test"}"""), Ct);
        using var fraction = await admin.PostAsync("/api/v1/apps", JsonBody.Of("""{"name": "A", "points": 1.5, "link": "https://example.test"}"""), Ct);
        using var huge = await admin.PostAsync("/api/v1/apps", JsonBody.Of("""{"name": "A", "points": 99999999999, "link": "https://example.test"}"""), Ct);

        Problem.FieldErrors(await Problem.ReadAsync(quoted, HttpStatusCode.BadRequest, "invalid_json"), "points").ShouldBe(["Use a whole number, without quotes."]);
        Problem.FieldErrors(await Problem.ReadAsync(fraction, HttpStatusCode.BadRequest, "invalid_json"), "points").ShouldBe(["Use a whole number."]);
        Problem.FieldErrors(await Problem.ReadAsync(huge, HttpStatusCode.BadRequest, "invalid_json"), "points").Single().ShouldStartWith("Use a whole number from ");
    }

    [Fact]
    public async Task Text_that_is_not_JSON_keeps_its_syntax_error()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.PostAsync("/api/v1/todos", JsonBody.Of("""{"title": "ok", "status": bogus}"""), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "invalid_json");
        problem.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
        problem.GetProperty("detail").GetString()!.ShouldNotContain("Use one of");
    }

    [Theory]
    [InlineData("", "A JSON body is required.")]
    [InlineData("null", "A JSON body is required: send an object, not null.")]
    public async Task An_empty_body_where_JSON_is_required_is_a_clear_400(string body, string detail)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.PostAsync("/api/v1/todos", JsonBody.Of(body), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "bad_request");
        problem.GetProperty("detail").GetString().ShouldBe(detail);
    }

    [Fact]
    public async Task Rejecting_without_a_body_names_the_reason_and_changes_nothing()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var alice = await factory.ClientForAsync(await factory.RegisterAsync());
        using var bob = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync(points: 15);
        var proof = Screenshot();
        using (await alice.CompleteAsync(app, proof))
        {
        }

        using var copy = await bob.CompleteAsync(app, proof);
        var id = (await copy.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        using var empty = await admin.PostAsync($"/api/v1/admin/completions/{id}/reject", content: null, Ct);
        using var emptyJson = await admin.PostAsync($"/api/v1/admin/completions/{id}/reject", JsonBody.Of(""), Ct);

        foreach (var response in new[] { empty, emptyJson })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            Problem.FieldErrors(problem, "reason").ShouldBe(["A reason of 1 to 500 characters is required."]);
            (await response.Content.ReadAsStringAsync(Ct)).ShouldNotContain("Implicit body");
        }

        (await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.Id == id).Select(c => c.Status).SingleAsync(Ct))).ShouldBe(CompletionStatus.Pending);
    }

    [Theory]
    [InlineData("{}", new[] { "login", "password" })]
    [InlineData("""{"login": "  "}""", new[] { "login", "password" })]
    [InlineData("""{"password": "whatever-it-is"}""", new[] { "login" })]
    [InlineData("""{"username": "someone"}""", new[] { "password" })]
    [InlineData("""{"email": "someone@example.test", "password": ""}""", new[] { "password" })]
    public async Task Login_without_its_fields_is_a_400_naming_them_and_counts_no_attempt(string body, string[] fields)
    {
        var before = await factory.DbAsync(db => db.Set<LoginAttempt>().SumAsync(a => a.Attempts, Ct));

        using var response = await factory.Client().PostAsync("/api/v1/auth/login", JsonBody.Of(body), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ShouldBe(fields);
        (await factory.DbAsync(db => db.Set<LoginAttempt>().SumAsync(a => a.Attempts, Ct))).ShouldBe(before);
    }

    [Fact]
    public async Task Login_with_a_wrong_password_stays_a_401_and_counts_an_attempt()
    {
        var account = await factory.RegisterAsync();

        using var response = await factory.Client().PostAsync("/api/v1/auth/login",
            JsonBody.Of($$"""{"login": "{{account.UserName}}", "password": "not the password"}"""), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await factory.DbAsync(db => db.Set<LoginAttempt>().Where(a => a.Key == CredentialThrottle.AccountKey(account.Id) + "|127.0.0.1").SumAsync(a => a.Attempts, Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task Register_with_an_empty_object_names_each_missing_field()
    {
        using var response = await factory.Client().PostAsync("/api/v1/auth/register", JsonBody.Of("{}"), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldNotBeEmpty();
        Problem.FieldErrors(problem, "email").ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task A_415_on_a_JSON_route_says_to_send_JSON(string contentType)
    {
        using var response = await factory.Client().PostAsync("/api/v1/auth/register", new StringContent("{}", Encoding.UTF8, contentType), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        problem.GetProperty("detail").GetString().ShouldBe($"Send application/json; this request's Content-Type is {contentType}; charset=utf-8.");
    }

    [Theory]
    [InlineData("/api/v1/files")]
    [InlineData("/api/v1/apps/1/completions")]
    public async Task A_415_on_an_upload_route_says_to_send_a_form(string route)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.PostAsync(route, JsonBody.Of("{}"), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        problem.GetProperty("detail").GetString()!.ShouldStartWith("Send multipart/form-data");
    }

    public sealed class OnSqlite(SqliteFactory factory) : GuidingErrorsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : GuidingErrorsTests(factory), IClassFixture<PostgresFactory>;
}
