using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Platform.Audit;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Audit;

/// <summary><c>GET /api/v1/admin/audit</c>: admin actions recorded with who, when, before and after; filters and paging.</summary>
public abstract class AuditLogTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_app_change_writes_one_record_with_its_actor_before_and_after()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        var name = $"Audited {Guid.NewGuid():N}";

        using var created = await admin.PostAsJsonAsync("/api/v1/apps", new { name, link = "https://example.test/app", points = 10 }, Ct);
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = (await created.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        using var patched = await admin.PatchAsync($"/api/v1/apps/{id}", JsonBody.Of("""{"points": 30}"""), Ct);
        patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var deleted = await admin.DeleteAsync($"/api/v1/apps/{id}", Ct);
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using var restored = await admin.PostAsync($"/api/v1/apps/{id}/restore", null, Ct);
        restored.StatusCode.ShouldBe(HttpStatusCode.OK);

        var records = await ListAsync(admin, $"entity_type=app&entity_id={id}");
        records.Select(r => r.GetProperty("action").GetString()).ShouldBe(["app.restored", "app.deleted", "app.updated", "app.created"]);
        records.ShouldAllBe(r => r.GetProperty("actor_id").GetInt64() == adminAccount.Id && r.GetProperty("actor_name").GetString() == adminAccount.UserName);
        var create = records[3];
        create.GetProperty("before").ValueKind.ShouldBe(JsonValueKind.Null);
        create.GetProperty("after").GetProperty("name").GetString().ShouldBe(name);
        var patch = records[2];
        patch.GetProperty("before").GetProperty("points").GetInt32().ShouldBe(10);
        patch.GetProperty("after").GetProperty("points").GetInt32().ShouldBe(30);
        records[1].GetProperty("before").GetProperty("deleted_at").ValueKind.ShouldBe(JsonValueKind.Null);
        records[1].GetProperty("after").GetProperty("deleted_at").ValueKind.ShouldBe(JsonValueKind.String);
        records[0].GetProperty("after").GetProperty("deleted_at").ValueKind.ShouldBe(JsonValueKind.Null);
        records[0].GetProperty("occurred_at").ValueKind.ShouldBe(JsonValueKind.String);
        records[0].GetProperty("request_id").GetString().ShouldBe(restored.Headers.GetValues("X-Request-ID").Single());

        var key = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var stored = await factory.DbAsync(db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.EntityType == "app" && e.EntityId == key).OrderBy(e => e.Id).ToListAsync(Ct));
        stored.Select(e => e.Action).ShouldBe(["app.created", "app.updated", "app.deleted", "app.restored"]);
        stored.ShouldAllBe(e => e.ActorId == adminAccount.Id);
    }

    [Fact]
    public async Task A_refused_change_writes_no_record()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var taken = $"Taken {Guid.NewGuid():N}";
        using var first = await admin.PostAsJsonAsync("/api/v1/apps", new { name = taken, link = "https://example.test/a", points = 5 }, Ct);
        using var second = await admin.PostAsJsonAsync("/api/v1/apps", new { name = $"Other {Guid.NewGuid():N}", link = "https://example.test/b", points = 5 }, Ct);
        var id = (await second.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        using var clash = await admin.PatchAsync($"/api/v1/apps/{id}", JsonBody.Of($$"""{"name": "{{taken}}"}"""), Ct);
        await Problem.ReadAsync(clash, HttpStatusCode.Conflict, "conflict");
        using var invalid = await admin.PutAsJsonAsync($"/api/v1/apps/{id}", new { name = "", link = "nope", points = 0 }, Ct);
        await Problem.ReadAsync(invalid, HttpStatusCode.BadRequest, "validation_failed");

        (await ListAsync(admin, $"entity_type=app&entity_id={id}")).Select(r => r.GetProperty("action").GetString()).ShouldBe(["app.created"]);
    }

    [Fact]
    public async Task Category_changes_are_recorded_and_filtered_by_actor_action_and_time_in_pages()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        var slug = $"c{Guid.NewGuid():N}"[..20];
        using (var created = await admin.PostAsJsonAsync("/api/v1/categories", new { slug, name = "Games" }, Ct))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var renamed = await admin.PatchAsync($"/api/v1/categories/{slug}", JsonBody.Of("""{"name": "Puzzles"}"""), Ct))
        {
            renamed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var deleted = await admin.DeleteAsync($"/api/v1/categories/{slug}", Ct))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using var page = await admin.GetAsync($"/api/v1/admin/audit?actor={adminAccount.Id}&action=category.&size=2", Ct);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await page.JsonAsync();
        body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(3);
        body.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("action").GetString()).ShouldBe(["category.deleted", "category.updated"]);
        page.Headers.GetValues("Link").Single().ShouldContain("rel=\"next\"");
        var rename = body.GetProperty("data")[1];
        rename.GetProperty("before").GetProperty("name").GetString().ShouldBe("Games");
        rename.GetProperty("after").GetProperty("name").GetString().ShouldBe("Puzzles");

        (await ListAsync(admin, $"actor={adminAccount.Id}&action=category.updated")).Count.ShouldBe(1);
        (await ListAsync(admin, $"actor={adminAccount.Id}&action=category")).Count.ShouldBe(0, "an action without a final '.' is exact");
        var now = factory.Clock.GetUtcNow();
        (await ListAsync(admin, $"actor={adminAccount.Id}&from={Iso(now.AddMinutes(-1))}&to={Iso(now.AddMinutes(1))}")).Count.ShouldBe(3);
        (await ListAsync(admin, $"actor={adminAccount.Id}&from={Iso(now.AddMinutes(1))}")).Count.ShouldBe(0);
        (await ListAsync(admin, $"actor={adminAccount.Id}&to={Iso(now.AddMinutes(-1))}")).Count.ShouldBe(0);
    }

    [Theory]
    [InlineData("actor=abc", "actor")]
    [InlineData("actor=-3", "actor")]
    [InlineData("action=app%20updated", "action")]
    [InlineData("entity_type=app%27", "entity_type")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-02-01&to=2026-01-01", "to")]
    public async Task A_bad_filter_is_a_400_naming_the_field(string query, string field)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var response = await admin.GetAsync($"/api/v1/admin/audit?{query}", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), field).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Only_admins_read_the_audit_log()
    {
        using var anonymous = factory.Client();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var noToken = await anonymous.GetAsync("/api/v1/admin/audit", Ct);
        await Problem.ReadAsync(noToken, HttpStatusCode.Unauthorized, "unauthorized");
        using var notAdmin = await user.GetAsync("/api/v1/admin/audit", Ct);
        await Problem.ReadAsync(notAdmin, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_setting_change_is_recorded_with_the_old_and_new_value()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        const string key = "auth.refresh_family_max_days";
        using (var first = await admin.PutAsJsonAsync($"/api/v1/admin/settings/{key}", new { value = 40 }, Ct))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var second = await admin.PutAsJsonAsync($"/api/v1/admin/settings/{key}", new { value = 41 }, Ct))
        {
            second.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var records = await ListAsync(admin, $"actor={adminAccount.Id}&entity_type=setting&entity_id={key}");
        records.Count.ShouldBe(2);
        records[0].GetProperty("action").GetString().ShouldBe("setting.updated");
        records[0].GetProperty("before").GetProperty("value").GetInt32().ShouldBe(40);
        records[0].GetProperty("after").GetProperty("value").GetInt32().ShouldBe(41);
    }

    private static string Iso(DateTimeOffset instant) => Uri.EscapeDataString(instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));

    internal static async Task<List<JsonElement>> ListAsync(HttpClient admin, string query)
    {
        using var response = await admin.GetAsync($"/api/v1/admin/audit?{query}&size=100", Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        return body.GetProperty("data").EnumerateArray().ToList();
    }

    public sealed class OnSqlite(SqliteFactory factory) : AuditLogTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AuditLogTests(factory), IClassFixture<PostgresFactory>;
}
