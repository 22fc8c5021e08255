using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Apps;

/// <summary><c>PATCH /api/v1/apps/{id}</c>: a JSON merge patch (RFC 7396), for admins only.</summary>
public abstract class AppsPatchTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_merge_patch_changes_the_fields_sent_clears_nulls_and_the_catalog_follows_at_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        var id = await CreateAsync(admin);
        using var before = await visitor.GetAsync($"/api/v1/apps/{id}", Ct);
        (await before.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32().ShouldBe(15, "and the app is now cached");

        using var patch = await PatchAsync(admin, id, """{"points": 60, "description": null}""");

        var data = (await patch.JsonAsync()).GetProperty("data");
        patch.StatusCode.ShouldBe(HttpStatusCode.OK, data.ToString());
        data.GetProperty("points").GetInt32().ShouldBe(60);
        data.GetProperty("category").GetString().ShouldBe("games");
        data.GetProperty("description").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        using var after = await visitor.GetAsync($"/api/v1/apps/{id}", Ct);
        (await after.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32().ShouldBe(60);
        var stored = await factory.DbAsync(db => db.Set<App>().AsNoTracking().SingleAsync(a => a.Id == id, Ct));
        (stored.Points, stored.Description, stored.CategoryId is not null, stored.Link).ShouldBe((60, (string?)null, true, "https://play.google.com/store/apps/details?id=patch"));
    }

    [Theory]
    [InlineData("""{"points": 0}""", "points")]
    [InlineData("""{"points": "ten"}""", "points")]
    [InlineData("""{"name": null}""", "name")]
    [InlineData("""{"link": "ftp://example.test"}""", "link")]
    [InlineData("""{"category": "no-such-category"}""", "category")]
    [InlineData("""[1, 2]""", "body")]
    public async Task A_bad_patch_is_a_400_naming_the_field_and_changes_nothing(string body, string field)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var id = await CreateAsync(admin);

        using var response = await PatchAsync(admin, id, body);

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), field).ShouldNotBeEmpty();
        (await factory.DbAsync(db => db.Set<App>().AsNoTracking().SingleAsync(a => a.Id == id, Ct))).Points.ShouldBe(15);
    }

    [Fact]
    public async Task Only_an_admin_may_patch_and_an_unknown_app_is_a_404()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await CreateAsync(admin);

        using var byUser = await PatchAsync(user, id, """{"points": 99}""");
        using var anonymous = await PatchAsync(factory.Client(), id, """{"points": 99}""");
        using var unknown = await PatchAsync(admin, 987654321, """{"points": 99}""");

        await Problem.ReadAsync(byUser, HttpStatusCode.Forbidden, "forbidden");
        await Problem.ReadAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        await Problem.ReadAsync(unknown, HttpStatusCode.NotFound, "not_found");
        (await factory.DbAsync(db => db.Set<App>().AsNoTracking().SingleAsync(a => a.Id == id, Ct))).Points.ShouldBe(15);
    }

    private static async Task<long> CreateAsync(HttpClient admin)
    {
        using var create = await admin.PostAsJsonAsync("/api/v1/apps", new
        {
            name = $"Patched {Guid.NewGuid():N}"[..30],
            link = "https://play.google.com/store/apps/details?id=patch",
            points = 15,
            category = "games",
            description = "Before the patch.",
        }, Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await create.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
    }

    private static Task<HttpResponseMessage> PatchAsync(HttpClient client, long id, string body) =>
        client.PatchAsync($"/api/v1/apps/{id}", JsonBody.MergePatch(body), Ct);

    public sealed class OnSqlite(SqliteFactory factory) : AppsPatchTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AppsPatchTests(factory), IClassFixture<PostgresFactory>;
}
