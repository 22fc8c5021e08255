using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Features.Todos;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Todos;

/// <summary>Personal to-do tasks through the product API and through seed 003's Postman guide.</summary>
public abstract class TodoTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_task_is_created_read_replaced_patched_deleted_and_restored()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var create = await client.PostAsJsonAsync("/api/v1/todos", new { title = "  Write the report  ", priority = "high", due_date = "2026-02-01" }, Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var task = (await create.JsonAsync()).GetProperty("data");
        var id = task.GetProperty("id").GetInt64();
        create.Headers.Location!.ToString().ShouldBe($"/api/v1/todos/{id}");
        create.Headers.ETag.ShouldNotBeNull();
        task.GetProperty("title").GetString().ShouldBe("Write the report");
        task.GetProperty("status").GetString().ShouldBe("pending");
        task.GetProperty("priority").GetString().ShouldBe("high");
        task.GetProperty("due_date").GetString().ShouldBe("2026-02-01");
        task.GetProperty("completed_at").ValueKind.ShouldBe(JsonValueKind.Null);

        using var replace = await client.PutAsJsonAsync($"/api/v1/todos/{id}", new { title = "Report v2", status = "in_progress" }, Ct);
        var replaced = (await replace.JsonAsync()).GetProperty("data");
        replaced.GetProperty("priority").GetString().ShouldBe("normal", "PUT replaces: a field left out takes its default");
        replaced.GetProperty("due_date").ValueKind.ShouldBe(JsonValueKind.Null);
        replaced.GetProperty("status").GetString().ShouldBe("in_progress");

        using var complete = await client.PatchAsync($"/api/v1/todos/{id}", JsonBody.MergePatch("""{"status": "completed", "description": "done and dusted"}"""), Ct);
        var completed = (await complete.JsonAsync()).GetProperty("data");
        completed.GetProperty("title").GetString().ShouldBe("Report v2", "PATCH keeps what it is not sent");
        completed.GetProperty("completed_at").GetDateTime().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);

        using var reopen = await client.PatchAsync($"/api/v1/todos/{id}", JsonBody.MergePatch("""{"status": "pending", "description": null}"""), Ct);
        var reopened = (await reopen.JsonAsync()).GetProperty("data");
        reopened.GetProperty("completed_at").ValueKind.ShouldBe(JsonValueKind.Null);
        reopened.GetProperty("description").ValueKind.ShouldBe(JsonValueKind.Null);

        using var delete = await client.DeleteAsync($"/api/v1/todos/{id}", Ct);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using var deleted = await client.GetAsync($"/api/v1/todos/{id}", Ct);
        await Problem.ReadAsync(deleted, HttpStatusCode.NotFound, "not_found");
        (await factory.DbAsync(db => db.Set<TodoTask>().IgnoreQueryFilters().AnyAsync(t => t.Id == id && t.DeletedAt != null, Ct))).ShouldBeTrue();

        using var restore = await client.PostAsync($"/api/v1/todos/{id}/restore", null, Ct);
        restore.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var back = await client.GetAsync($"/api/v1/todos/{id}", Ct);
        back.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Another_users_task_is_a_404_for_every_verb_and_is_left_untouched()
    {
        using var owner = await factory.ClientForAsync(await factory.RegisterAsync());
        using var intruder = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await CreateAsync(owner, "private");

        using var get = await intruder.GetAsync($"/api/v1/todos/{id}", Ct);
        using var put = await intruder.PutAsJsonAsync($"/api/v1/todos/{id}", new { title = "mine now" }, Ct);
        using var patch = await intruder.PatchAsync($"/api/v1/todos/{id}", JsonBody.MergePatch("""{"title": "mine now"}"""), Ct);
        using var delete = await intruder.DeleteAsync($"/api/v1/todos/{id}", Ct);
        using var seedGet = await intruder.GetAsync($"/tasks/{id}", Ct);

        foreach (var response in new[] { get, put, patch, delete, seedGet })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.NotFound, "not_found");
            problem.GetRawText().ShouldNotContain("private");
        }

        (await factory.DbAsync(db => db.Set<TodoTask>().Where(t => t.Id == id).Select(t => t.Title).SingleAsync(Ct))).ShouldBe("private");
    }

    [Fact]
    public async Task A_stale_If_Match_is_a_412_and_a_current_one_succeeds()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        using var create = await client.PostAsJsonAsync("/api/v1/todos", new { title = "versioned" }, Ct);
        var firstTag = create.Headers.ETag!;
        var id = (await create.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        using var change = await client.PatchAsync($"/api/v1/todos/{id}", JsonBody.MergePatch("""{"title": "changed elsewhere"}"""), Ct);
        var currentTag = change.Headers.ETag!;

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            using var stale = await SendIfMatchAsync(client, method, id, firstTag);
            await Problem.ReadAsync(stale, HttpStatusCode.PreconditionFailed, "precondition_failed");
        }

        (await factory.DbAsync(db => db.Set<TodoTask>().Where(t => t.Id == id).Select(t => t.Title).SingleAsync(Ct))).ShouldBe("changed elsewhere");
        using var fresh = await SendIfMatchAsync(client, HttpMethod.Put, id, currentTag);
        fresh.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_list_filters_searches_sorts_and_can_include_deleted_tasks()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var low = await CreateAsync(client, "Buy milk", priority: "low", dueDate: "2026-03-01");
        var high = await CreateAsync(client, "File taxes", priority: "high", dueDate: "2026-01-15", description: "Before the deadline");
        var normal = await CreateAsync(client, "Call mum", dueDate: "2026-02-01");
        using (var done = await client.PatchAsync($"/api/v1/todos/{normal}", JsonBody.MergePatch("""{"status": "completed"}"""), Ct))
        {
            done.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await IdsAsync(client, "sort=-priority")).ShouldBe([high, normal, low]);
        (await IdsAsync(client, "sort=due_date")).ShouldBe([high, normal, low]);
        (await IdsAsync(client, "sort=title")).ShouldBe([low, normal, high]);
        (await IdsAsync(client, "status=completed")).ShouldBe([normal]);
        (await IdsAsync(client, "priority=low")).ShouldBe([low]);
        (await IdsAsync(client, "q=DEADLINE")).ShouldBe([high]);

        using (var delete = await client.DeleteAsync($"/api/v1/todos/{low}", Ct))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await IdsAsync(client, "sort=title")).ShouldBe([normal, high]);
        (await IdsAsync(client, "sort=title&include_deleted=true")).ShouldBe([low, normal, high]);
    }

    [Fact]
    public async Task Admins_read_any_users_tasks_and_users_cannot()
    {
        var owner = await factory.RegisterAsync();
        using var ownerClient = await factory.ClientForAsync(owner);
        var id = await CreateAsync(ownerClient, "visible to admins");
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var other = await factory.ClientForAsync(await factory.RegisterAsync());

        using var asAdmin = await admin.GetAsync($"/api/v1/admin/users/{owner.Id}/todos", Ct);
        using var asUser = await other.GetAsync($"/api/v1/admin/users/{owner.Id}/todos", Ct);

        (await asAdmin.JsonAsync()).GetProperty("data").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).ShouldBe([id]);
        await Problem.ReadAsync(asUser, HttpStatusCode.Forbidden, "forbidden");
    }

    private static async Task<long> CreateAsync(HttpClient client, string title, string priority = "normal", string? dueDate = null, string? description = null)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/todos", new { title, priority, due_date = dueDate, description }, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    private static async Task<List<long>> IdsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync($"/api/v1/todos?{query}", Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        return body.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).ToList();
    }

    private static Task<HttpResponseMessage> SendIfMatchAsync(HttpClient client, HttpMethod method, long id, EntityTagHeaderValue etag)
    {
        var request = new HttpRequestMessage(method, $"/api/v1/todos/{id}");
        request.Headers.IfMatch.Add(etag);
        if (method != HttpMethod.Delete)
        {
            request.Content = JsonBody.Of("""{"title": "from a stale read"}""");
        }

        return client.SendAsync(request, Ct);
    }

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string path, string json) => client.PostAsync(path, JsonBody.Of(json), Ct);


    [Fact]
    public async Task The_list_sorts_by_several_keys_separated_by_commas()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var plainB = await CreateAsync(client, "B plain");
        var urgentB = await CreateAsync(client, "B urgent", priority: "high");
        var plainA = await CreateAsync(client, "A plain");
        var urgentA = await CreateAsync(client, "A urgent", priority: "high");

        (await IdsAsync(client, "sort=-priority,title")).ShouldBe([urgentA, urgentB, plainA, plainB]);
        (await IdsAsync(client, "sort=priority,-title")).ShouldBe([plainB, plainA, urgentB, urgentA]);
        using var bad = await client.GetAsync("/api/v1/todos?sort=title,bogus", Ct);
        await Problem.ReadAsync(bad, HttpStatusCode.BadRequest, "validation_failed");
    }

    public sealed class OnSqlite(SqliteFactory factory) : TodoTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : TodoTests(factory), IClassFixture<PostgresFactory>;
}
