using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>Seed 000 routes where the contract asks for more than the product API does.</summary>
public abstract class SeedContractTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("""{"username": "{0}", "password": "correct horse battery"}""")]
    [InlineData("""{"username": "{0}", "password": "correct horse battery", "email": null}""")]
    [InlineData("""{"username": "{0}", "password": "correct horse battery", "email": "  "}""")]
    public async Task Signup_without_an_email_is_a_400_naming_the_field_and_creates_no_account(string template)
    {
        var name = $"nomail_{Guid.NewGuid():N}"[..20];
        using var client = factory.Client();

        using var response = await client.PostAsync("/api/signup/", JsonBody.Bare(template.Replace("{0}", name, StringComparison.Ordinal)), Ct);

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), "email").ShouldNotBeEmpty();
        (await factory.DbAsync(db => db.Set<User>().AnyAsync(u => u.UserName == name, Ct))).ShouldBeFalse();
    }

    [Fact]
    public async Task Signup_with_an_email_still_creates_the_account()
    {
        var name = $"withmail_{Guid.NewGuid():N}"[..20];
        using var client = factory.Client();

        using var response = await client.PostAsync("/api/signup/", JsonBody.Bare($$"""{"username": "{{name}}", "password": "{{Accounts.Password}}", "email": "{{name}}@example.com"}"""), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await response.JsonAsync()).GetProperty("email").GetString().ShouldBe($"{name}@example.com");
    }

    [Fact]
    public async Task Completing_a_task_without_a_multipart_body_is_a_400_that_says_what_is_expected()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var appId = await CreateAppAsync(description: null, category: null);

        using var json = await user.PostAsync($"/api/apps/detail/{appId}/", JsonBody.Bare("""{"app_id": 1}"""), Ct);
        using var empty = await user.PostAsync($"/api/apps/detail/{appId}/", null, Ct);
        using var noFile = await user.PostAsync($"/api/apps/detail/{appId}/", new MultipartFormDataContent { { new StringContent(appId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "app_id" } }, Ct);

        foreach (var response in new[] { json, empty })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            problem.GetProperty("detail").GetString()!.ShouldContain("multipart/form-data");
            problem.GetProperty("detail").GetString()!.ShouldContain("'screenshot'");
            Problem.FieldErrors(problem, "screenshot").ShouldNotBeEmpty();
        }

        Problem.FieldErrors(await Problem.ReadAsync(noFile, HttpStatusCode.BadRequest, "validation_failed"), "screenshot").ShouldNotBeEmpty();
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.AppId == appId, Ct))).ShouldBe(0);
    }

    [Fact]
    public async Task Updating_an_app_keeps_the_fields_the_body_leaves_out()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var appId = await CreateAppAsync(description: "Kept description.", category: "games");
        var name = $"Renamed {Guid.NewGuid():N}"[..24];

        using var update = await admin.PutAsync($"/api/apps/update/{appId}/", JsonBody.Bare($$"""{"name": "{{name}}", "link": "https://play.google.com/store/apps/details?id=kept", "points": 33}"""), Ct);
        using var pointsOnly = await admin.PutAsync($"/api/apps/update/{appId}/", JsonBody.Bare("""{"points": 34}"""), Ct);
        using var badType = await admin.PutAsync($"/api/apps/update/{appId}/", JsonBody.Bare("""{"points": "many"}"""), Ct);

        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await pointsOnly.JsonAsync();
        pointsOnly.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        (body.GetProperty("name").GetString(), body.GetProperty("points").GetInt32(), body.GetProperty("description").GetString(), body.GetProperty("category").GetString())
            .ShouldBe((name, 34, "Kept description.", "games"));
        Problem.FieldErrors(await Problem.ReadAsync(badType, HttpStatusCode.BadRequest, "validation_failed"), "points").ShouldNotBeEmpty();
        var stored = await factory.DbAsync(db => db.Set<App>().AsNoTracking().SingleAsync(a => a.Id == appId, Ct));
        (stored.Name, stored.Points, stored.Description, stored.CategoryId is not null).ShouldBe((name, 34, "Kept description.", true));
    }

    private async Task<long> CreateAppAsync(string? description, string? category)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var create = await admin.PostAsJsonAsync("/api/v1/apps", new { name = $"Seed contract {Guid.NewGuid():N}"[..30], link = "https://play.google.com/store/apps/details?id=seed", points = 15, description, category }, Ct);
        var body = await create.JsonAsync();
        create.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    public sealed class OnSqlite(SqliteFactory factory) : SeedContractTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : SeedContractTests(factory), IClassFixture<PostgresFactory>;
}
