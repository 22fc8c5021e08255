using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Platform.Persistence;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Apps;

/// <summary>The public catalog: paging, filters, sorting, soft deletes and conditional requests.</summary>
public abstract class AppsCatalogTests(AapFactory factory)
{
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_list_shows_active_apps_only()
    {
        using var response = await _client.GetAsync("/api/v1/apps?q=test%20&sort=name", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var names = (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()).ToList();
        names.ShouldBe(["Test Alpha", "Test Beta"]);
    }

    [Fact]
    public async Task A_page_carries_meta_and_RFC_8288_links()
    {
        var token = await AddAppsAsync(7);

        using var response = await _client.GetAsync($"/api/v1/apps?q={token}&size=3&page=2&sort=points", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("points").GetInt32()).ShouldBe([4, 5, 6]);
        var meta = body.GetProperty("meta");
        (meta.GetProperty("page").GetInt32(), meta.GetProperty("size").GetInt32(), meta.GetProperty("total").GetInt64(), meta.GetProperty("total_pages").GetInt32())
            .ShouldBe((2, 3, 7L, 3));
        var link = response.Headers.GetValues("Link").Single();
        link.ShouldContain($"</api/v1/apps?q={token}&sort=points&page=1&size=3>; rel=\"first\"");
        link.ShouldContain($"</api/v1/apps?q={token}&sort=points&page=1&size=3>; rel=\"prev\"");
        link.ShouldContain($"</api/v1/apps?q={token}&sort=points&page=3&size=3>; rel=\"next\"");
        link.ShouldContain($"</api/v1/apps?q={token}&sort=points&page=3&size=3>; rel=\"last\"");
    }

    [Fact]
    public async Task The_last_page_has_no_next_link()
    {
        var token = await AddAppsAsync(7);

        using var response = await _client.GetAsync($"/api/v1/apps?q={token}&size=3&page=3", Ct);

        (await response.JsonAsync()).GetProperty("data").GetArrayLength().ShouldBe(1);
        response.Headers.GetValues("Link").Single().ShouldNotContain("rel=\"next\"");
    }

    [Fact]
    public async Task A_page_past_the_last_is_empty_with_correct_meta()
    {
        var token = await AddAppsAsync(4);

        using var response = await _client.GetAsync($"/api/v1/apps?q={token}&size=3&page=9", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.GetProperty("data").GetArrayLength().ShouldBe(0);
        body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(4);
        body.GetProperty("meta").GetProperty("total_pages").GetInt32().ShouldBe(2);
        body.GetProperty("meta").GetProperty("page").GetInt32().ShouldBe(9);
    }

    [Fact]
    public async Task Per_page_is_an_alias_of_size()
    {
        var token = await AddAppsAsync(3);

        using var response = await _client.GetAsync($"/api/v1/apps?q={token}&per_page=2", Ct);

        var body = await response.JsonAsync();
        body.GetProperty("data").GetArrayLength().ShouldBe(2);
        body.GetProperty("meta").GetProperty("size").GetInt32().ShouldBe(2);
    }

    [Fact]
    public async Task An_empty_list_has_one_empty_page()
    {
        using var response = await _client.GetAsync("/api/v1/apps?q=nothing-matches-this", Ct);

        var body = await response.JsonAsync();
        body.GetProperty("data").GetArrayLength().ShouldBe(0);
        body.GetProperty("meta").GetProperty("total_pages").GetInt32().ShouldBe(0);
        response.Headers.GetValues("Link").Single().ShouldContain("page=1&size=20>; rel=\"last\"");
    }

    [Theory]
    [InlineData("page=0", "page")]
    [InlineData("page=-1", "page")]
    [InlineData("size=0", "size")]
    [InlineData("size=101", "size")]
    [InlineData("size=1000", "size")]
    [InlineData("per_page=0", "per_page")]
    [InlineData("page=abc", "page")]
    [InlineData("size=1.5", "size")]
    [InlineData("page=99999999999", "page")]
    [InlineData("sort=password", "sort")]
    [InlineData("sort=-", "sort")]
    public async Task Bad_list_parameters_are_a_400_naming_the_field(string query, string field)
    {
        using var response = await _client.GetAsync($"/api/v1/apps?{query}", Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Sorting_by_points_descending_puts_the_highest_first()
    {
        var token = await AddAppsAsync(3);

        using var response = await _client.GetAsync($"/api/v1/apps?q={token}&sort=-points", Ct);

        (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("points").GetInt32()).ShouldBe([3, 2, 1]);
    }

    [Fact]
    public async Task Search_ignores_case_and_filters_by_category()
    {
        using var byName = await _client.GetAsync("/api/v1/apps?q=TEST%20alpha", Ct);
        using var byCategory = await _client.GetAsync("/api/v1/apps?q=test&category=tools", Ct);

        (await byName.JsonAsync()).GetProperty("data").EnumerateArray().Single().GetProperty("name").GetString().ShouldBe("Test Alpha");
        var tools = (await byCategory.JsonAsync()).GetProperty("data").EnumerateArray().ToList();
        tools.Select(a => a.GetProperty("name").GetString()).ShouldBe(["Test Beta"]);
        tools[0].GetProperty("category").GetString().ShouldBe("tools");
    }

    [Fact]
    public async Task A_soft_deleted_app_is_hidden_but_kept()
    {
        var token = await AddAppsAsync(2);
        var id = await factory.DbAsync(db => db.Set<App>().Where(a => a.Name == $"{token} 1").Select(a => a.Id).SingleAsync(Ct));
        await factory.DbAsync(db => db.Set<App>().Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, DateTime.UtcNow), Ct));

        using var list = await _client.GetAsync($"/api/v1/apps?q={token}", Ct);
        using var detail = await _client.GetAsync($"/api/v1/apps/{id}", Ct);

        (await list.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(1);
        await Problem.ReadAsync(detail, HttpStatusCode.NotFound, "not_found");
        (await factory.DbAsync(db => db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).AnyAsync(a => a.Id == id, Ct))).ShouldBeTrue();
    }

    [Fact]
    public async Task An_app_has_an_ETag_and_answers_304_while_it_is_unchanged()
    {
        var token = await AddAppsAsync(1);
        var id = await factory.DbAsync(db => db.Set<App>().Where(a => a.Name == $"{token} 1").Select(a => a.Id).SingleAsync(Ct));

        using var first = await _client.GetAsync($"/api/v1/apps/{id}", Ct);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var etag = first.Headers.ETag!;
        first.Headers.CacheControl!.Private.ShouldBeTrue();
        (await first.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64().ShouldBe(id);

        using var unchanged = await GetIfNoneMatchAsync(id, etag);
        unchanged.StatusCode.ShouldBe(HttpStatusCode.NotModified);

        using (var admin = await factory.ClientForAsync(await factory.CreateAdminAsync()))
        {
            using var update = await admin.PutAsJsonAsync($"/api/v1/apps/{id}", new { name = $"{token} 1", link = "https://play.google.com/store/apps/details?id=x", points = 999 }, Ct);
            update.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var changed = await GetIfNoneMatchAsync(id, etag);
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        changed.Headers.ETag!.ShouldNotBe(etag);
        (await changed.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32().ShouldBe(999);
    }

    [Fact]
    public async Task A_missing_app_is_a_404_and_a_non_numeric_id_a_400()
    {
        using var missing = await _client.GetAsync("/api/v1/apps/987654321", Ct);
        using var notANumber = await _client.GetAsync("/api/v1/apps/abc", Ct);

        await Problem.ReadAsync(missing, HttpStatusCode.NotFound, "not_found");
        var problem = await Problem.ReadAsync(notANumber, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "id").ShouldNotBeEmpty();
    }

    private async Task<HttpResponseMessage> GetIfNoneMatchAsync(long id, EntityTagHeaderValue etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/apps/{id}");
        request.Headers.IfNoneMatch.Add(etag);
        return await _client.SendAsync(request, Ct);
    }

    /// <summary>Adds <paramref name="count"/> active apps named "{token} i" with i points, and returns the token to search for.</summary>
    private async Task<string> AddAppsAsync(int count)
    {
        var token = $"t{Guid.NewGuid():N}"[..12];
        await factory.DbAsync(async db =>
        {
            for (var i = 1; i <= count; i++)
            {
                var app = new App { Link = $"https://play.google.com/store/apps/details?id={token}.{i}", Points = i };
                app.Rename($"{token} {i}");
                db.Set<App>().Add(app);
            }

            await db.SaveChangesAsync(Ct);
        });
        return token;
    }

    public sealed class OnSqlite(SqliteFactory factory) : AppsCatalogTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AppsCatalogTests(factory), IClassFixture<PostgresFactory>;
}
