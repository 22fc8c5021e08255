using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Features.Audit;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary><c>GET/PATCH /api/v1/admin/users/{id}</c> and <c>POST .../unlock</c>: admins change roles, deactivate and unlock, audited.</summary>
public abstract class AdminUserManagementTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deactivating_ends_every_session_at_once_and_reactivating_lets_the_user_sign_in_again()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var user = factory.Client();
        user.DefaultRequestHeaders.Authorization = new("Bearer", tokens.AccessToken);
        using (var before = await user.GetAsync("/api/v1/me", Ct))
        {
            before.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var deactivate = await admin.PatchAsync($"/api/v1/admin/users/{account.Id}", JsonBody.Of("""{"is_active": false}"""), Ct);
        var body = await deactivate.JsonAsync();
        deactivate.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        body.GetProperty("data").GetProperty("is_active").GetBoolean().ShouldBeFalse();
        body.GetProperty("data").GetProperty("id").GetInt64().ShouldBe(account.Id);

        using (var after = await user.GetAsync("/api/v1/me", Ct))
        {
            after.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var refresh = await factory.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }))
        {
            await Problem.ReadAsync(refresh, HttpStatusCode.Unauthorized, "invalid_refresh_token");
        }

        using (var login = await factory.Client().PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = account.Password }))
        {
            login.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        (await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == account.Id, Ct))).IsActive.ShouldBeFalse();

        using var reactivate = await admin.PatchAsync($"/api/v1/admin/users/{account.Id}", JsonBody.Of("""{"is_active": true}"""), Ct);
        reactivate.StatusCode.ShouldBe(HttpStatusCode.OK);
        await factory.LoginAsync(account);

        var records = await AuditLogTests.ListAsync(admin, $"entity_type=user&entity_id={account.Id}");
        records.Select(r => r.GetProperty("action").GetString()).ShouldBe(["user.reactivated", "user.deactivated"]);
        records.ShouldAllBe(r => r.GetProperty("actor_id").GetInt64() == adminAccount.Id);
        records[1].GetProperty("before").GetProperty("is_active").GetBoolean().ShouldBeTrue();
        records[1].GetProperty("after").GetProperty("is_active").GetBoolean().ShouldBeFalse();
        records[1].GetProperty("after").TryGetProperty("password_hash", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task An_admin_promotes_and_demotes_and_the_demoted_admin_token_stops_working()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var account = await factory.RegisterAsync();

        using var promote = await admin.PatchAsync($"/api/v1/admin/users/{account.Id}", JsonBody.Of("""{"role": "admin"}"""), Ct);
        (await promote.JsonAsync()).GetProperty("data").GetProperty("role").GetString().ShouldBe(Roles.Admin);
        using var promoted = await factory.ClientForAsync(account);
        using (var allowed = await promoted.GetAsync("/api/v1/admin/audit", Ct))
        {
            allowed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var demote = await admin.PatchAsync($"/api/v1/admin/users/{account.Id}", JsonBody.Of("""{"role": "user"}"""), Ct);
        (await demote.JsonAsync()).GetProperty("data").GetProperty("role").GetString().ShouldBe(Roles.User);
        using (var refused = await promoted.GetAsync("/api/v1/admin/audit", Ct))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "demoting ends the sessions that carried the admin role");
        }

        var records = await AuditLogTests.ListAsync(admin, $"action=user.role_changed&entity_id={account.Id}");
        records.Select(r => r.GetProperty("after").GetProperty("role").GetString()).ShouldBe([Roles.User, Roles.Admin]);

        using var badRole = await admin.PatchAsync($"/api/v1/admin/users/{account.Id}", JsonBody.Of("""{"role": "owner"}"""), Ct);
        Problem.FieldErrors(await Problem.ReadAsync(badRole, HttpStatusCode.BadRequest, "validation_failed"), "role").ShouldNotBeEmpty();
        using var unknown = await admin.PatchAsync("/api/v1/admin/users/999999999", JsonBody.Of("""{"is_active": false}"""), Ct);
        await Problem.ReadAsync(unknown, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_admin_cannot_demote_or_deactivate_themself_and_nothing_is_recorded()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);

        using var demote = await admin.PatchAsync($"/api/v1/admin/users/{adminAccount.Id}", JsonBody.Of("""{"role": "user"}"""), Ct);
        (await Problem.ReadAsync(demote, HttpStatusCode.Conflict, "conflict")).GetProperty("detail").GetString()!.ShouldContain("your own account");
        using var deactivate = await admin.PatchAsync($"/api/v1/admin/users/{adminAccount.Id}", JsonBody.Of("""{"is_active": false}"""), Ct);
        await Problem.ReadAsync(deactivate, HttpStatusCode.Conflict, "conflict");

        var stored = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == adminAccount.Id, Ct));
        (stored.Role, stored.IsActive).ShouldBe((Roles.Admin, true));
        var key = adminAccount.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (await factory.DbAsync(db => db.Set<AuditEntry>().CountAsync(e => e.EntityType == "user" && e.EntityId == key && e.Action != "user.created", Ct))).ShouldBe(0);
    }

    [Fact]
    public async Task Unlocking_lets_a_locked_out_account_sign_in_at_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var account = await factory.RegisterAsync();
        using var client = factory.Client();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = $"wrong guess {i}" });
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var locked = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = account.Password }))
        {
            locked.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        }

        using var shown = await admin.GetAsync($"/api/v1/admin/users/{account.Id}", Ct);
        var details = (await shown.JsonAsync()).GetProperty("data");
        details.GetProperty("locked_until").ValueKind.ShouldBe(JsonValueKind.String);
        details.GetProperty("username").GetString().ShouldBe(account.UserName);
        details.TryGetProperty("password_hash", out _).ShouldBeFalse();

        using var unlock = await admin.PostAsync($"/api/v1/admin/users/{account.Id}/unlock", null, Ct);
        unlock.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await unlock.JsonAsync()).GetProperty("data").GetProperty("locked_until").ValueKind.ShouldBe(JsonValueKind.Null);

        using (var login = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = account.Password }))
        {
            login.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var records = await AuditLogTests.ListAsync(admin, $"action=user.unlocked&entity_id={account.Id}");
        records.Count.ShouldBe(1);
        records[0].GetProperty("before").GetProperty("locked_until").ValueKind.ShouldBe(JsonValueKind.String);
        using var unknown = await admin.GetAsync("/api/v1/admin/users/999999999", Ct);
        await Problem.ReadAsync(unknown, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Only_admins_manage_users()
    {
        var target = await factory.RegisterAsync();
        using var anonymous = factory.Client();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        foreach (var client in new[] { anonymous, user })
        {
            var status = client == anonymous ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
            var code = client == anonymous ? "unauthorized" : "forbidden";
            using var get = await client.GetAsync($"/api/v1/admin/users/{target.Id}", Ct);
            await Problem.ReadAsync(get, status, code);
            using var patch = await client.PatchAsync($"/api/v1/admin/users/{target.Id}", JsonBody.Of("""{"role": "admin"}"""), Ct);
            await Problem.ReadAsync(patch, status, code);
            using var unlock = await client.PostAsync($"/api/v1/admin/users/{target.Id}/unlock", null, Ct);
            await Problem.ReadAsync(unlock, status, code);
        }

        (await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == target.Id, Ct))).Role.ShouldBe(Roles.User);
    }

    public sealed class OnSqlite(SqliteFactory factory) : AdminUserManagementTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AdminUserManagementTests(factory), IClassFixture<PostgresFactory>;
}

/// <summary>
/// The last active admin cannot be demoted or deactivated. The test makes every other admin a user, so it has a host
/// of its own.
/// </summary>
public abstract class LastAdminTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_last_active_admin_cannot_be_demoted_or_deactivated()
    {
        var caller = await factory.CreateAdminAsync();
        var last = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(caller);
        // The caller's token still says admin, but the account was demoted since: only `last` is an active admin now.
        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id != last.Id && u.Role == Roles.Admin)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Role, Roles.User), Ct));

        using var demote = await admin.PatchAsync($"/api/v1/admin/users/{last.Id}", JsonBody.Of("""{"role": "user"}"""), Ct);
        (await Problem.ReadAsync(demote, HttpStatusCode.Conflict, "conflict")).GetProperty("detail").GetString()!.ShouldContain("last active admin");
        using var deactivate = await admin.PatchAsync($"/api/v1/admin/users/{last.Id}", JsonBody.Of("""{"is_active": false}"""), Ct);
        await Problem.ReadAsync(deactivate, HttpStatusCode.Conflict, "conflict");

        var stored = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.Id == last.Id, Ct));
        (stored.Role, stored.IsActive).ShouldBe((Roles.Admin, true));
    }

    public sealed class OnSqlite(SqliteFactory factory) : LastAdminTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : LastAdminTests(factory), IClassFixture<PostgresFactory>;
}
