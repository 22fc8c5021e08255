using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Apps;

/// <summary>Categories: listed for everyone, created, renamed and deleted by admins, named in the apps' errors.</summary>
public abstract class CategoryTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_creates_renames_and_deletes_a_category_and_the_list_and_catalog_follow()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        var slug = $"cat-{Guid.NewGuid():N}"[..20];

        using var create = await admin.PostAsJsonAsync("/api/v1/categories", new { name = "  Board games  ", slug = slug.ToUpperInvariant() }, Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created, await create.Content.ReadAsStringAsync(Ct));
        create.Headers.Location!.ToString().ShouldBe($"/api/v1/categories/{slug}");
        var created = (await create.JsonAsync()).GetProperty("data");
        created.GetProperty("slug").GetString().ShouldBe(slug);
        created.GetProperty("name").GetString().ShouldBe("Board games");
        created.GetProperty("apps").GetInt32().ShouldBe(0);

        using var app = await admin.PostAsJsonAsync("/api/v1/apps", new { name = $"Cat app {Guid.NewGuid():N}"[..30], link = "https://play.google.com/store/apps/details?id=cat", points = 5, category = slug }, Ct);
        app.StatusCode.ShouldBe(HttpStatusCode.Created);
        var appId = (await app.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        (await CountOfAsync(visitor, slug)).ShouldBe(1);
        using var cached = await visitor.GetAsync($"/api/v1/apps?category={slug}", Ct);
        (await cached.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(1);

        var renamed = slug + "-x";
        using var rename = await admin.PatchAsJsonAsync($"/api/v1/categories/{slug}", new { slug = renamed }, Ct);
        rename.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await rename.JsonAsync()).GetProperty("data").GetProperty("name").GetString().ShouldBe("Board games", "a field left out is kept");
        using var detail = await visitor.GetAsync($"/api/v1/apps/{appId}", Ct);
        (await detail.JsonAsync()).GetProperty("data").GetProperty("category").GetString().ShouldBe(renamed, "the catalog cache was evicted");
        using var oldFilter = await visitor.GetAsync($"/api/v1/apps?category={slug}", Ct);
        (await oldFilter.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(0);

        using var refused = await admin.DeleteAsync($"/api/v1/categories/{renamed}", Ct);
        (await Problem.ReadAsync(refused, HttpStatusCode.Conflict, "conflict")).GetProperty("detail").GetString()!.ShouldContain("1 app");
        using var deleteApp = await admin.DeleteAsync($"/api/v1/apps/{appId}", Ct);
        deleteApp.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using var delete = await admin.DeleteAsync($"/api/v1/categories/{renamed}", Ct);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await CountOfAsync(visitor, renamed)).ShouldBeNull();
        (await factory.DbAsync(db => db.Set<AppCategory>().AnyAsync(c => c.Slug == renamed, Ct))).ShouldBeFalse();
        (await factory.DbAsync(db => db.Set<App>().IgnoreQueryFilters().Where(a => a.Id == appId).Select(a => a.CategoryId).SingleAsync(Ct))).ShouldBeNull();
        using var missing = await admin.DeleteAsync($"/api/v1/categories/{renamed}", Ct);
        await Problem.ReadAsync(missing, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_cached_category_list_follows_a_rename_a_new_app_a_deleted_app_and_a_deleted_category_at_once_in_the_api_and_on_the_apps_page()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        var slug = $"cached-{Guid.NewGuid():N}"[..20];
        using (var create = await admin.PostAsJsonAsync("/api/v1/categories", new { name = "Before the rename", slug }, Ct))
        {
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // Both readers fill the cache first.
        (await CountOfAsync(visitor, slug)).ShouldBe(0);
        (await AppsPageAsync(visitor)).ShouldContain("Before the rename");

        using (var rename = await admin.PatchAsJsonAsync($"/api/v1/categories/{slug}", new { name = "After the rename" }, Ct))
        {
            rename.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var page = await AppsPageAsync(visitor);
        page.ShouldContain($"<option value=\"{slug}\">After the rename</option>");
        page.ShouldNotContain("Before the rename");

        long appId;
        using (var app = await admin.PostAsJsonAsync("/api/v1/apps", new { name = $"Cached cat {Guid.NewGuid():N}"[..30], link = "https://play.google.com/store/apps/details?id=cached", points = 5, category = slug }, Ct))
        {
            app.StatusCode.ShouldBe(HttpStatusCode.Created);
            appId = (await app.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        }

        (await CountOfAsync(visitor, slug)).ShouldBe(1, "a new app evicts the cached counts");

        using (var deleteApp = await admin.DeleteAsync($"/api/v1/apps/{appId}", Ct))
        {
            deleteApp.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await CountOfAsync(visitor, slug)).ShouldBe(0, "a deleted app evicts the cached counts");
        using (var delete = await admin.DeleteAsync($"/api/v1/categories/{slug}", Ct))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await CountOfAsync(visitor, slug)).ShouldBeNull();
        (await AppsPageAsync(visitor)).ShouldNotContain($"value=\"{slug}\"");
        (await factory.DbAsync(db => db.Set<AppCategory>().AnyAsync(c => c.Slug == slug, Ct))).ShouldBeFalse();
    }

    [Fact]
    public async Task The_apps_page_kept_as_html_shows_a_renamed_a_new_a_deactivated_and_a_recategorised_app_at_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var visitor = factory.Client();
        var tag = $"Frag{Guid.NewGuid():N}"[..16];
        var slug = $"frag-{Guid.NewGuid():N}"[..20];
        using (var category = await admin.PostAsJsonAsync("/api/v1/categories", new { name = $"{tag} category", slug }, Ct))
        {
            category.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var first = await CreateAppAsync(admin, $"{tag} first");
        var search = $"/apps?q={tag}";
        var before = await AppsPageAsync(visitor, search);
        before.ShouldContain($"{tag} first");
        before.ShouldContain("1 app &#xB7; page 1 of 1");
        (await AppsPageAsync(visitor, search)).ShouldContain($"{tag} first", Case.Sensitive, "the same page again, from the kept HTML");

        using (var rename = await admin.PatchAsJsonAsync($"/api/v1/apps/{first}", new { name = $"{tag} renamed", category = slug }, Ct))
        {
            rename.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var renamed = await AppsPageAsync(visitor, search);
        renamed.ShouldContain($"{tag} renamed");
        renamed.ShouldContain($"· {tag} category", Case.Sensitive, "the app's new category is named");
        renamed.ShouldNotContain($"{tag} first");
        (await AppsPageAsync(visitor, $"/apps?category={slug}")).ShouldContain($"{tag} renamed");

        await CreateAppAsync(admin, $"{tag} second");
        var two = await AppsPageAsync(visitor, search);
        two.ShouldContain($"{tag} second");
        two.ShouldContain("2 apps &#xB7; page 1 of 1");

        using (var deactivate = await admin.PatchAsJsonAsync($"/api/v1/apps/{first}", new { is_active = false }, Ct))
        {
            deactivate.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var one = await AppsPageAsync(visitor, search);
        one.ShouldNotContain($"{tag} renamed");
        one.ShouldContain($"{tag} second");
        one.ShouldContain("1 app &#xB7; page 1 of 1");
    }

    private static async Task<long> CreateAppAsync(HttpClient admin, string name)
    {
        using var app = await admin.PostAsJsonAsync("/api/v1/apps", new { name, link = "https://play.google.com/store/apps/details?id=frag", points = 5 }, Ct);
        app.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await app.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
    }

    private static async Task<string> AppsPageAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>The HTML of the catalog page as a guest sees it.</summary>
    private static async Task<string> AppsPageAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/apps", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    [Fact]
    public async Task Bad_category_input_is_a_400_naming_each_field_and_a_taken_slug_is_a_409()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var invalid = await admin.PostAsJsonAsync("/api/v1/categories", new { name = "Zero\u200Bwidth", slug = "Not a slug!" }, Ct);
        var problem = await Problem.ReadAsync(invalid, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "name").ShouldNotBeEmpty();
        Problem.FieldErrors(problem, "slug").Single().ShouldContain("board-games");

        using var taken = await admin.PostAsJsonAsync("/api/v1/categories", new { name = "Games again", slug = "games" }, Ct);
        Problem.FieldErrors(await Problem.ReadAsync(taken, HttpStatusCode.Conflict, "conflict"), "slug").ShouldNotBeEmpty();
        (await factory.DbAsync(db => db.Set<AppCategory>().CountAsync(c => c.Slug == "games", Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task An_unknown_category_on_an_app_lists_the_known_slugs()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var response = await admin.PostAsJsonAsync("/api/v1/apps", new { name = "Unknown cat", link = "https://play.google.com/store/apps/details?id=u", points = 5, category = "communication" }, Ct);
        var error = Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), "category").Single();
        error.ShouldContain("'communication'");
        error.ShouldContain("games");
    }

    [Fact]
    public async Task Only_admins_change_categories()
    {
        using var anonymous = factory.Client();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var list = await anonymous.GetAsync("/api/v1/categories", Ct);
        list.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var noToken = await anonymous.PostAsJsonAsync("/api/v1/categories", new { name = "X", slug = "x-anon" }, Ct);
        await Problem.ReadAsync(noToken, HttpStatusCode.Unauthorized, "unauthorized");
        using var notAdmin = await user.PostAsJsonAsync("/api/v1/categories", new { name = "X", slug = "x-user" }, Ct);
        await Problem.ReadAsync(notAdmin, HttpStatusCode.Forbidden, "forbidden");
        using var rename = await user.PatchAsJsonAsync("/api/v1/categories/games", new { name = "Mine" }, Ct);
        await Problem.ReadAsync(rename, HttpStatusCode.Forbidden, "forbidden");
        using var delete = await user.DeleteAsync("/api/v1/categories/games", Ct);
        await Problem.ReadAsync(delete, HttpStatusCode.Forbidden, "forbidden");
        (await factory.DbAsync(db => db.Set<AppCategory>().Where(c => c.Slug == "games").Select(c => c.Name).SingleAsync(Ct))).ShouldNotBe("Mine");
    }

    /// <summary>The app count the public list gives for a slug, or null when the slug is not listed.</summary>
    private static async Task<int?> CountOfAsync(HttpClient client, string slug)
    {
        using var response = await client.GetAsync("/api/v1/categories", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray()
            .Where(c => c.GetProperty("slug").GetString() == slug).Select(c => (int?)c.GetProperty("apps").GetInt32()).SingleOrDefault();
    }

    public sealed class OnSqlite(SqliteFactory factory) : CategoryTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CategoryTests(factory), IClassFixture<PostgresFactory>;
}
