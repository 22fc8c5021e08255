using System.Net;
using System.Text;
using Aap.Api.Platform.Settings;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>The runtime settings admins change without a restart, and who may change them.</summary>
public abstract class SettingsTests(AapFactory factory)
{
    private const string AccessLifetime = "auth.access_token_lifetime_seconds";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admins_list_every_setting_with_its_default_and_bounds()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var response = await admin.GetAsync("/api/v1/admin/settings", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var settings = (await response.JsonAsync()).GetProperty("data").EnumerateArray().ToDictionary(s => s.GetProperty("key").GetString()!);
        settings.Keys.ShouldBe(["auth.access_token_lifetime_seconds", "auth.refresh_family_max_days", "auth.refresh_token_lifetime_days", "auth.refuse_common_passwords", "rewards.require_review"], ignoreOrder: true);
        var access = settings[AccessLifetime];
        (access.GetProperty("default").GetInt32(), access.GetProperty("min").GetInt32(), access.GetProperty("max").GetInt32()).ShouldBe((30, 5, 86_400));
        settings["auth.refresh_token_lifetime_days"].GetProperty("max").GetInt32().ShouldBe(365);
    }

    [Fact]
    public async Task A_changed_access_lifetime_applies_to_the_next_token_and_is_audited()
    {
        var admin = await factory.CreateAdminAsync();
        using var client = await factory.ClientForAsync(admin);
        var user = await factory.RegisterAsync();

        using var update = await PutAsync(client, AccessLifetime, "120");
        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await update.JsonAsync()).GetProperty("data").GetProperty("value").GetInt32().ShouldBe(120);

        var tokens = await factory.LoginAsync(user);
        var jwt = new JsonWebToken(tokens.AccessToken);
        (jwt.ValidTo - jwt.IssuedAt).ShouldBe(TimeSpan.FromSeconds(120));

        var audit = await factory.DbAsync(db => db.Set<RuntimeSettingChange>().AsNoTracking().Where(c => c.Key == AccessLifetime).OrderBy(c => c.Id).LastAsync(Ct));
        audit.NewValue.ShouldBe("120");
        audit.ChangedBy.ShouldBe(admin.Id);
        audit.ChangedAt.ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);
        await ResetAsync(client);
    }

    [Fact]
    public async Task A_change_made_on_another_node_is_seen_within_seconds()
    {
        var user = await factory.RegisterAsync();
        (await LifetimeOfNextTokenAsync(user)).ShouldBe(TimeSpan.FromSeconds(30));

        // Another node writes straight to the shared database.
        await factory.DbAsync(async db =>
        {
            await db.Set<RuntimeSetting>().Where(s => s.Key == AccessLifetime).ExecuteDeleteAsync(Ct);
            db.Set<RuntimeSetting>().Add(new RuntimeSetting { Key = AccessLifetime, Value = "45", UpdatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        });
        factory.Clock.Advance(TimeSpan.FromSeconds(5));

        (await LifetimeOfNextTokenAsync(user)).ShouldBe(TimeSpan.FromSeconds(45));
        await factory.DbAsync(db => db.Set<RuntimeSetting>().Where(s => s.Key == AccessLifetime).ExecuteDeleteAsync(Ct));
        factory.Clock.Advance(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("4")]
    [InlineData("86401")]
    [InlineData("-1")]
    [InlineData("\"60\"")]
    [InlineData("1.5")]
    [InlineData("null")]
    public async Task An_out_of_bounds_or_mistyped_value_is_a_400_and_changes_nothing(string value)
    {
        using var client = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var changesBefore = await factory.DbAsync(db => db.Set<RuntimeSettingChange>().CountAsync(Ct));

        using var response = await PutAsync(client, AccessLifetime, value);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await factory.DbAsync(db => db.Set<RuntimeSettingChange>().CountAsync(Ct))).ShouldBe(changesBefore);
        (await factory.DbAsync(db => db.Set<RuntimeSetting>().AnyAsync(s => s.Key == AccessLifetime && s.Value == value, Ct))).ShouldBeFalse();
    }

    [Fact]
    public async Task An_unknown_setting_is_a_404()
    {
        using var client = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var response = await PutAsync(client, "auth.no_such_thing", "10");

        await Problem.ReadAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Guests_get_401_and_users_get_403_on_the_admin_settings()
    {
        using var guest = factory.Client();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());

        using var guestList = await guest.GetAsync("/api/v1/admin/settings", Ct);
        using var guestPut = await PutAsync(guest, AccessLifetime, "60");
        using var userList = await user.GetAsync("/api/v1/admin/settings", Ct);
        using var userPut = await PutAsync(user, AccessLifetime, "60");

        await Problem.ReadAsync(guestList, HttpStatusCode.Unauthorized, "unauthorized");
        guestList.Headers.WwwAuthenticate.Select(h => h.Scheme).ShouldBe(["Bearer", "Basic"], ignoreOrder: true);
        await Problem.ReadAsync(guestPut, HttpStatusCode.Unauthorized, "unauthorized");
        await Problem.ReadAsync(userList, HttpStatusCode.Forbidden, "forbidden");
        await Problem.ReadAsync(userPut, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Users_reach_their_own_account_and_guests_do_not()
    {
        using var guest = factory.Client();
        var account = await factory.RegisterAsync();
        using var user = await factory.ClientForAsync(account);

        using var guestMe = await guest.GetAsync("/api/v1/me", Ct);
        using var userMe = await user.GetAsync("/api/v1/me", Ct);

        await Problem.ReadAsync(guestMe, HttpStatusCode.Unauthorized, "unauthorized");
        var me = (await userMe.JsonAsync()).GetProperty("data");
        me.GetProperty("id").GetInt64().ShouldBe(account.Id);
        me.GetProperty("role").GetString().ShouldBe("User");
    }

    private async Task<TimeSpan> LifetimeOfNextTokenAsync(TestAccount user)
    {
        var jwt = new JsonWebToken((await factory.LoginAsync(user)).AccessToken);
        return jwt.ValidTo - jwt.IssuedAt;
    }

    private static async Task ResetAsync(HttpClient admin)
    {
        using var reset = await PutAsync(admin, AccessLifetime, "30");
        reset.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient client, string key, string jsonValue) =>
        client.PutAsync($"/api/v1/admin/settings/{key}", new StringContent($$"""{"value": {{jsonValue}}}""", Encoding.UTF8, "application/json"), Ct);

    public sealed class OnSqlite(SqliteFactory factory) : SettingsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : SettingsTests(factory), IClassFixture<PostgresFactory>;
}
