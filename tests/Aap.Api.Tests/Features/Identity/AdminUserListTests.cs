using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary><c>GET /api/v1/admin/users</c>: search, filters and paging, for admins only.</summary>
public abstract class AdminUserListTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admins_search_users_by_name_or_email_role_and_state_newest_first()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var older = await factory.RegisterAsync(userName: $"Find_{tag}_a", email: $"a_{tag}@example.test");
        var newer = await factory.RegisterAsync(userName: $"find_{tag}_b", email: $"b_{tag}@example.test");
        var byEmail = await factory.RegisterAsync(userName: $"other_{Guid.NewGuid():N}"[..20], email: $"FIND_{tag}@Example.test");
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);

        using var search = await admin.GetAsync($"/api/v1/admin/users?q=FIND_{tag}", Ct);
        search.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await search.JsonAsync();
        body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(3);
        var found = body.GetProperty("data").EnumerateArray().ToList();
        found.Select(u => u.GetProperty("id").GetInt64()).ShouldBe([byEmail.Id, newer.Id, older.Id]);
        found[0].GetProperty("email").GetString().ShouldBe(byEmail.Email);
        found[0].GetProperty("role").GetString().ShouldBe("User");
        found[0].GetProperty("is_active").GetBoolean().ShouldBeTrue();
        found[0].TryGetProperty("created_at", out _).ShouldBeTrue();
        found[0].TryGetProperty("password_hash", out _).ShouldBeFalse();

        using var paged = await admin.GetAsync($"/api/v1/admin/users?q=find_{tag}&size=2&page=2", Ct);
        (await paged.JsonAsync()).GetProperty("data").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).ShouldBe([older.Id]);
        paged.Headers.GetValues("Link").Single().ShouldContain("rel=\"prev\"");

        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == newer.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsActive, false), Ct));
        using var inactive = await admin.GetAsync($"/api/v1/admin/users?q={tag}&active=false", Ct);
        (await inactive.JsonAsync()).GetProperty("data").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).ShouldBe([newer.Id]);
        using var admins = await admin.GetAsync($"/api/v1/admin/users?q={adminAccount.UserName}&role=ADMIN", Ct);
        (await admins.JsonAsync()).GetProperty("data").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).ShouldBe([adminAccount.Id]);
        using var users = await admin.GetAsync($"/api/v1/admin/users?q={adminAccount.UserName}&role=user", Ct);
        (await users.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(0);

        using var badRole = await admin.GetAsync("/api/v1/admin/users?role=owner", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(badRole, HttpStatusCode.BadRequest, "validation_failed"), "role").Single().ShouldContain("admin or user");
    }

    [Fact]
    public async Task Only_admins_list_users()
    {
        using var anonymous = factory.Client();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var noToken = await anonymous.GetAsync("/api/v1/admin/users", Ct);
        await Problem.ReadAsync(noToken, HttpStatusCode.Unauthorized, "unauthorized");
        using var notAdmin = await user.GetAsync("/api/v1/admin/users", Ct);
        await Problem.ReadAsync(notAdmin, HttpStatusCode.Forbidden, "forbidden");
    }

    public sealed class OnSqlite(SqliteFactory factory) : AdminUserListTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AdminUserListTests(factory), IClassFixture<PostgresFactory>;
}
