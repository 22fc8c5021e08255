using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>Every endpoint of seed 000's "Problem Set 2", with tokens from its cookie endpoints.</summary>
public abstract class SeedProblemSet2Tests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Problem_set_2_admin_creates_and_updates_an_app_that_a_user_lists_and_reads()
    {
        var (admin, user, _) = await PersonasAsync();
        using var disposeAdmin = admin;
        using var disposeUser = user;

        // Admin: create, update.
        var (appId, name) = await CreateAndUpdateAppAsync(admin);

        // User: list, detail.
        using var list = await user.GetAsync("/api/apps/list/", Ct);
        var apps = await list.JsonAsync();
        apps.ValueKind.ShouldBe(JsonValueKind.Array);
        apps.EnumerateArray().ShouldContain(a => a.GetProperty("id").GetInt64() == appId);
        using var detail = await user.GetAsync($"/api/apps/detail/{appId}/", Ct);
        (await detail.JsonAsync()).GetProperty("name").GetString().ShouldBe(name);
    }

    [Fact]
    public async Task Problem_set_2_completion_earns_points_that_deleting_its_task_takes_back()
    {
        var (admin, user, userAccount) = await PersonasAsync();
        using var disposeAdmin = admin;
        using var disposeUser = user;
        var (appId, _) = await CreateAndUpdateAppAsync(admin);

        // User: complete, profile, tasks, total points.
        var taskId = await CompleteAsync(user, appId);
        using var profile = await user.GetAsync("/api/profile/", Ct);
        (await profile.JsonAsync()).GetProperty("username").GetString().ShouldBe(userAccount.UserName);
        using var tasks = await user.GetAsync("/api/tasks/list/", Ct);
        (await tasks.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetInt64().ShouldBe(taskId);
        using var total = await user.GetAsync("/api/total-points/", Ct);
        (await total.JsonAsync()).GetRawText().ShouldBe("""{"total_points":20}""");

        // Admin: task detail and delete (points reversed), app delete.
        using var task = await admin.GetAsync($"/api/tasks/detail/{taskId}/", Ct);
        (await task.JsonAsync()).GetProperty("app_id").GetInt64().ShouldBe(appId);
        using var deleteTask = await admin.DeleteAsync($"/api/tasks/detail/{taskId}/", Ct);
        deleteTask.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var totalAfter = await user.GetAsync("/api/total-points/", Ct);
        (await totalAfter.JsonAsync()).GetProperty("total_points").GetInt64().ShouldBe(0);
        using var deleteApp = await admin.DeleteAsync($"/api/apps/update/{appId}/", Ct);
        deleteApp.StatusCode.ShouldBe(HttpStatusCode.OK);

        // Both are gone.
        using var goneApp = await user.GetAsync($"/api/apps/detail/{appId}/", Ct);
        await Problem.ReadAsync(goneApp, HttpStatusCode.NotFound, "not_found");
        using var goneTask = await admin.GetAsync($"/api/tasks/detail/{taskId}/", Ct);
        await Problem.ReadAsync(goneTask, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Problem_set_2_answers_the_status_codes_the_seed_lists()
    {
        var (admin, user, _) = await PersonasAsync();
        using var disposeAdmin = admin;
        using var disposeUser = user;
        using var guest = factory.Client();
        var (appId, _) = await CreateAndUpdateAppAsync(admin);
        var taskId = await CompleteAsync(user, appId);

        using var userCreates = await user.PostAsync("/api/apps/create/", JsonBody.Of("""{"name": "x", "link": "https://example.test", "points": 1}"""), Ct);
        await Problem.ReadAsync(userCreates, HttpStatusCode.Unauthorized, "unauthorized");
        using var userReadsTask = await user.GetAsync($"/api/tasks/detail/{taskId}/", Ct);
        await Problem.ReadAsync(userReadsTask, HttpStatusCode.Unauthorized, "unauthorized");
        using var badApp = await admin.PostAsync("/api/apps/create/", JsonBody.Of("""{"name": "x", "link": "javascript:alert(1)", "points": 1}"""), Ct);
        await Problem.ReadAsync(badApp, HttpStatusCode.BadRequest, "validation_failed");
        using var guestList = await guest.GetAsync("/api/apps/list/", Ct);
        await Problem.ReadAsync(guestList, HttpStatusCode.Unauthorized, "unauthorized");
        using var guestPoints = await guest.GetAsync("/api/total-points/", Ct);
        await Problem.ReadAsync(guestPoints, HttpStatusCode.Unauthorized, "unauthorized");
    }

    /// <summary>A new admin and a new user, each logged in through the seed's cookie endpoint.</summary>
    private async Task<(HttpClient Admin, HttpClient User, TestAccount UserAccount)> PersonasAsync()
    {
        var userAccount = await factory.RegisterAsync();
        return (await CookieClientAsync("/api/token/admin/", await factory.CreateAdminAsync()), await CookieClientAsync("/api/token/user/", userAccount), userAccount);
    }

    /// <summary>Creates an app worth 15 points through the seed's admin route, then updates it to 20.</summary>
    private static async Task<(long Id, string Name)> CreateAndUpdateAppAsync(HttpClient admin)
    {
        var name = $"Seed App {Guid.NewGuid():N}"[..24];
        using var create = await admin.PostAsync("/api/apps/create/", JsonBody.Of($$"""{"name": "{{name}}", "link": "https://play.google.com/store/apps/details?id=seed", "points": 15}"""), Ct);
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var app = await create.JsonAsync();
        var appId = app.GetProperty("id").GetInt64();
        app.GetProperty("points").GetInt32().ShouldBe(15);
        using var update = await admin.PutAsync($"/api/apps/update/{appId}/", JsonBody.Of($$"""{"name": "{{name}}", "link": "https://play.google.com/store/apps/details?id=seed", "points": 20}"""), Ct);
        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await update.JsonAsync()).GetProperty("points").GetInt32().ShouldBe(20);
        return (appId, name);
    }

    /// <summary>Completes the app through the seed's multipart route; the id of the task it creates.</summary>
    private static async Task<long> CompleteAsync(HttpClient user, long appId)
    {
        using var complete = await user.PostAsync($"/api/apps/detail/{appId}/", new MultipartFormDataContent
        {
            { new StringContent(appId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "app_id" },
            { Images.Part(Images.Screenshot()), "screenshot", "done.png" },
        }, Ct);
        complete.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await complete.JsonAsync()).GetProperty("id").GetInt64();
    }

    /// <summary>Logs in through one of the seed's cookie endpoints and returns a client that sends those cookies.</summary>
    private async Task<HttpClient> CookieClientAsync(string endpoint, TestAccount account)
    {
        using var anonymous = factory.Client();
        using var login = await anonymous.PostAsync(endpoint, JsonBody.Of($$"""{"username": "{{account.UserName}}", "password": "{{account.Password}}"}"""), Ct);
        login.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cookies = login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => c.StartsWith("aap_access=", StringComparison.Ordinal)).Distinct();
        var client = factory.Client();
        client.DefaultRequestHeaders.Add("Cookie", string.Join("; ", cookies));
        return client;
    }

    public sealed class OnSqlite(SqliteFactory factory) : SeedProblemSet2Tests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : SeedProblemSet2Tests(factory), IClassFixture<PostgresFactory>;
}
