using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;

namespace Aap.Api.Tests.Features;

/// <summary>
/// The seed documents' walkthroughs replayed verbatim, with their example passwords ("password", "securepassword").
/// Those are common passwords, so this class's host accepts them from the start: a host of its own, so that no other
/// test class runs with the check off and no test depends on another turning it back on.
/// </summary>
public abstract class SeedWalkthroughTests(AapFactory factory) : IAsyncLifetime
{
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await factory.AllowCommonPasswordsAsync();

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Every_curl_command_of_seed_004_works_as_printed()
    {
        var email = $"{Guid.NewGuid():N}@example.com";

        using var register = await PostRawAsync("/api/register/", $$"""{"password": "password", "email": "{{email}}"}""");
        register.StatusCode.ShouldBe(HttpStatusCode.Created);
        var registered = await register.JsonAsync();
        registered.EnumerateObject().Select(p => p.Name).ShouldBe(["id", "email"]);
        registered.GetProperty("email").GetString().ShouldBe(email);

        using var login = await PostRawAsync("/api/login/", $$"""{"email": "{{email}}", "password": "password"}""");
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var pair = await login.JsonAsync();
        var access = pair.GetProperty("access_token").GetString()!;
        var refresh = pair.GetProperty("refresh_token").GetString()!;
        access.Split('.').Length.ShouldBe(3);
        Guid.TryParse(refresh, out _).ShouldBeTrue();

        using var me = await SendAsync(HttpMethod.Get, "/api/me/", access);
        (await me.JsonAsync()).GetRawText().ShouldBe($$"""{"id":{{registered.GetProperty("id").GetInt64()}},"username":"","email":"{{email}}"}""");

        var newEmail = $"new{email}";
        using var update = await SendAsync(HttpMethod.Put, "/api/me/", access, $$"""{"email": "{{newEmail}}"}""");
        (await update.JsonAsync()).GetProperty("email").GetString().ShouldBe(newEmail);
        using var rename = await SendAsync(HttpMethod.Put, "/api/me/", access, """{"username": "John Smith"}""");
        (await rename.JsonAsync()).GetProperty("username").GetString().ShouldBe("John Smith");

        using var refreshed = await PostRawAsync("/api/refresh/", $$"""{"refresh_token": "{{refresh}}"}""");
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var next = await refreshed.JsonAsync();
        next.GetProperty("refresh_token").GetString().ShouldNotBe(refresh);
        next.GetProperty("access_token").GetString().ShouldNotBeNullOrEmpty();

        using var logout = await PostRawAsync("/api/logout/", $$"""{"refresh_token": "{{next.GetProperty("refresh_token").GetString()}}"}""");
        logout.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await logout.JsonAsync()).GetRawText().ShouldBe("""{"success":"User logged out."}""");

        using var afterLogout = await PostRawAsync("/api/refresh/", $$"""{"refresh_token": "{{next.GetProperty("refresh_token").GetString()}}"}""");
        await Problem.ReadAsync(afterLogout, HttpStatusCode.Unauthorized, "invalid_refresh_token");
    }

    [Fact]
    public async Task Seed_003_registers_and_logs_in_as_its_Postman_guide_says()
    {
        var name = $"testuser{Guid.NewGuid():N}"[..20];

        using var register = await PostRawAsync("/register", $$"""{"username": "{{name}}", "password": "securepassword"}""");
        using var login = await PostRawAsync("/login", $$"""{"username": "{{name}}", "password": "securepassword"}""");

        register.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await register.JsonAsync()).GetRawText().ShouldBe("""{"message":"User created successfully"}""");
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await login.JsonAsync();
        body.EnumerateObject().Select(p => p.Name).ShouldBe(["access_token"]);
        using var me = await SendAsync(HttpMethod.Get, "/api/v1/me", body.GetProperty("access_token").GetString()!);
        (await me.JsonAsync()).GetProperty("data").GetProperty("username").GetString().ShouldBe(name);
    }

    [Fact]
    public async Task Seed_003_Postman_guide_creates_a_task_and_lists_it()
    {
        using var client = await SignedUpWithTheSeed003GuideAsync();

        // 3. Create a task.
        using var create = await PostRawAsync(client, "/tasks", """{"title": "My First Postman Task", "description": "Testing the API with Postman."}""");
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await create.JsonAsync()).GetRawText().ShouldBe("""{"message":"Task created successfully"}""");

        // 4. Get all tasks: a JSON array that includes it.
        using var all = await client.GetAsync("/tasks", Ct);
        all.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tasks = await all.JsonAsync();
        tasks.ValueKind.ShouldBe(JsonValueKind.Array);
        var created = tasks.EnumerateArray().Single();
        created.GetProperty("title").GetString().ShouldBe("My First Postman Task");
        created.GetProperty("description").GetString().ShouldBe("Testing the API with Postman.");
        created.GetProperty("status").GetString().ShouldBe("pending");
    }

    [Fact]
    public async Task Seed_003_Postman_guide_reads_updates_and_deletes_a_task()
    {
        using var client = await SignedUpWithTheSeed003GuideAsync();
        using (var create = await PostRawAsync(client, "/tasks", """{"title": "My First Postman Task", "description": "Testing the API with Postman."}"""))
        {
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var all = await client.GetAsync("/tasks", Ct);
        var id = (await all.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetInt64();

        // 5. Get a specific task.
        using var one = await client.GetAsync($"/tasks/{id}", Ct);
        one.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await one.JsonAsync()).GetProperty("id").GetInt64().ShouldBe(id);

        // 6. Update a task.
        using var update = await client.PutAsync($"/tasks/{id}", JsonBody.Of("""{"title": "Updated Task Title", "status": "completed"}"""), Ct);
        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await update.JsonAsync()).GetRawText().ShouldBe("""{"message":"Task updated successfully"}""");
        using var updated = await client.GetAsync($"/tasks/{id}", Ct);
        var after = await updated.JsonAsync();
        after.GetProperty("title").GetString().ShouldBe("Updated Task Title");
        after.GetProperty("status").GetString().ShouldBe("completed");
        after.GetProperty("description").GetString().ShouldBe("Testing the API with Postman.");
        after.GetProperty("completed_at").ValueKind.ShouldBe(JsonValueKind.String);

        // 7. Delete a task.
        using var delete = await client.DeleteAsync($"/tasks/{id}", Ct);
        delete.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await delete.JsonAsync()).GetRawText().ShouldBe("""{"message":"Task deleted successfully"}""");
        using var gone = await client.GetAsync($"/tasks/{id}", Ct);
        await Problem.ReadAsync(gone, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Seed_003_Postman_guide_pages_tasks()
    {
        using var client = await SignedUpWithTheSeed003GuideAsync();

        // 8. Get tasks with pagination.
        for (var i = 1; i <= 12; i++)
        {
            using var more = await PostRawAsync(client, "/tasks", $$"""{"title": "Task {{i}}", "description": "d"}""");
            more.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var page = await client.GetAsync("/tasks?page=2&per_page=5", Ct);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await page.JsonAsync()).EnumerateArray().Select(t => t.GetProperty("title").GetString()).ShouldBe(["Task 6", "Task 7", "Task 8", "Task 9", "Task 10"]);
        page.Headers.GetValues("X-Total-Count").Single().ShouldBe("12");
        var link = page.Headers.GetValues("Link").Single();
        link.ShouldContain("rel=\"next\"");
        link.ShouldContain("page=3&size=5>; rel=\"last\"");
    }

    /// <summary>Steps 1 and 2 of seed 003's guide (register, log in) for a new user; a client that sends its token.</summary>
    private async Task<HttpClient> SignedUpWithTheSeed003GuideAsync()
    {
        var name = $"testuser{Guid.NewGuid():N}"[..20];
        using var register = await PostRawAsync(_client, "/register", $$"""{"username": "{{name}}", "password": "securepassword"}""");
        register.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await register.JsonAsync()).GetRawText().ShouldBe("""{"message":"User created successfully"}""");
        using var login = await PostRawAsync(_client, "/login", $$"""{"username": "{{name}}", "password": "securepassword"}""");
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var client = factory.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.JsonAsync()).GetProperty("access_token").GetString());
        return client;
    }

    private Task<HttpResponseMessage> PostRawAsync(string path, string json) => PostRawAsync(_client, path, json);

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string path, string json) => client.PostAsync(path, JsonBody.Of(json), Ct);

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string accessToken, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (json is not null)
        {
            request.Content = JsonBody.Of(json);
        }

        return _client.SendAsync(request, Ct);
    }

    public sealed class OnSqlite(SqliteFactory factory) : SeedWalkthroughTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : SeedWalkthroughTests(factory), IClassFixture<PostgresFactory>;
}
