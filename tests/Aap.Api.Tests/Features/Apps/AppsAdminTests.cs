using System.Net;
using System.Net.Http.Json;
using System.Text;
using Aap.Api.Features.Apps;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Apps;

/// <summary>Admins publish and manage apps; the catalog cache follows every write at once.</summary>
public abstract class AppsAdminTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_publishes_changes_deletes_and_restores_an_app_and_the_catalog_follows_at_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        var name = $"Published {Guid.NewGuid():N}"[..30];
        (await SearchAsync(visitor, name)).ShouldBe(0, "and the empty answer is now cached");

        using var create = await admin.PostAsJsonAsync("/api/v1/apps", new { name, link = "https://play.google.com/store/apps/details?id=pub", points = 75, category = "games", description = "Fun." }, Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var created = (await create.JsonAsync()).GetProperty("data");
        var id = created.GetProperty("id").GetInt64();
        created.GetProperty("category").GetString().ShouldBe("games");
        create.Headers.Location!.ToString().ShouldBe($"/api/v1/apps/{id}");
        (await SearchAsync(visitor, name)).ShouldBe(1);

        using var detail = await visitor.GetAsync($"/api/v1/apps/{id}", Ct);
        (await detail.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32().ShouldBe(75);
        using var update = await admin.PutAsJsonAsync($"/api/v1/apps/{id}", new { name, link = "https://play.google.com/store/apps/details?id=pub", points = 80 }, Ct);
        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var detailAfter = await visitor.GetAsync($"/api/v1/apps/{id}", Ct);
        (await detailAfter.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32().ShouldBe(80);

        using var delete = await admin.DeleteAsync($"/api/v1/apps/{id}", Ct);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await SearchAsync(visitor, name)).ShouldBe(0);
        using var gone = await visitor.GetAsync($"/api/v1/apps/{id}", Ct);
        await Problem.ReadAsync(gone, HttpStatusCode.NotFound, "not_found");

        using var restore = await admin.PostAsync($"/api/v1/apps/{id}/restore", null, Ct);
        restore.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SearchAsync(visitor, name)).ShouldBe(1);
    }

    [Fact]
    public async Task The_list_answers_304_until_the_catalog_changes()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        using var first = await visitor.GetAsync("/api/v1/apps?size=5", Ct);
        first.Headers.CacheControl!.MaxAge.ShouldBe(TimeSpan.FromSeconds(60));

        using var same = await GetIfNoneMatchAsync(visitor, "/api/v1/apps?size=5", first.Headers.ETag!.ToString());
        same.StatusCode.ShouldBe(HttpStatusCode.NotModified);

        using var create = await admin.PostAsJsonAsync("/api/v1/apps", new { name = $"New {Guid.NewGuid():N}"[..20], link = "https://example.test/app", points = 5 }, Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var changed = await GetIfNoneMatchAsync(visitor, "/api/v1/apps?size=5", first.Headers.ETag!.ToString());
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"name": "X", "link": "https://example.test", "points": 0}""", "points")]
    [InlineData("""{"name": "X", "link": "https://example.test", "points": 100001}""", "points")]
    [InlineData("""{"name": "X", "link": "https://example.test"}""", "points")]
    [InlineData("""{"name": "X", "link": "javascript:alert(1)", "points": 5}""", "link")]
    [InlineData("""{"name": "X", "link": "ftp://example.test/app", "points": 5}""", "link")]
    [InlineData("""{"name": "X", "link": "/relative/path", "points": 5}""", "link")]
    [InlineData("""{"name": "", "link": "https://example.test", "points": 5}""", "name")]
    [InlineData("""{"name": "X", "link": "https://example.test", "points": 5, "category": "no-such-category"}""", "category")]
    public async Task Bad_app_fields_are_a_400_naming_the_field_and_nothing_is_written(string body, string field)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var before = await CountAsync();

        using var response = await admin.PostAsync("/api/v1/apps", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), field).ShouldNotBeEmpty();
        (await CountAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task A_name_of_101_characters_and_points_as_text_are_refused()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var before = await CountAsync();

        using var longName = await admin.PostAsJsonAsync("/api/v1/apps", new { name = new string('n', 101), link = "https://example.test", points = 5 }, Ct);
        using var textPoints = await admin.PostAsync("/api/v1/apps", new StringContent("""{"name": "X", "link": "https://example.test", "points": "ten"}""", Encoding.UTF8, "application/json"), Ct);

        Problem.FieldErrors(await Problem.ReadAsync(longName, HttpStatusCode.BadRequest, "validation_failed"), "name").ShouldNotBeEmpty();
        Problem.FieldErrors(await Problem.ReadAsync(textPoints, HttpStatusCode.BadRequest, "invalid_json"), "points").ShouldNotBeEmpty();
        (await CountAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task A_name_in_use_by_a_live_app_is_a_409_whatever_its_case()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var name = $"Twin {Guid.NewGuid():N}"[..20];
        using var first = await admin.PostAsJsonAsync("/api/v1/apps", new { name, link = "https://example.test/1", points = 5 }, Ct);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var twin = await admin.PostAsJsonAsync("/api/v1/apps", new { name = name.ToUpperInvariant(), link = "https://example.test/2", points = 5 }, Ct);

        Problem.FieldErrors(await Problem.ReadAsync(twin, HttpStatusCode.Conflict, "conflict"), "name").ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Users_cannot_manage_apps_and_guests_must_log_in()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var guest = factory.Client();
        var body = new { name = "Nope", link = "https://example.test", points = 5 };

        using var asUser = await user.PostAsJsonAsync("/api/v1/apps", body, Ct);
        using var asGuest = await guest.PostAsJsonAsync("/api/v1/apps", body, Ct);
        using var deleteAsUser = await user.DeleteAsync("/api/v1/apps/1", Ct);

        await Problem.ReadAsync(asUser, HttpStatusCode.Forbidden, "forbidden");
        await Problem.ReadAsync(asGuest, HttpStatusCode.Unauthorized, "unauthorized");
        await Problem.ReadAsync(deleteAsUser, HttpStatusCode.Forbidden, "forbidden");
    }

    private static async Task<long> SearchAsync(HttpClient client, string name)
    {
        using var response = await client.GetAsync($"/api/v1/apps?q={Uri.EscapeDataString(name)}", Ct);
        return (await response.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64();
    }

    private static async Task<HttpResponseMessage> GetIfNoneMatchAsync(HttpClient client, string path, string etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        return await client.SendAsync(request, Ct);
    }

    private Task<int> CountAsync() => factory.DbAsync(db => db.Set<App>().IgnoreQueryFilters().CountAsync(Ct));

    public sealed class OnSqlite(SqliteFactory factory) : AppsAdminTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AppsAdminTests(factory), IClassFixture<PostgresFactory>;
}
