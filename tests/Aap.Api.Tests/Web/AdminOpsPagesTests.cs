using System.Globalization;
using System.Net;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Audit;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>The admin's users, settings and audit pages, in a real browser, checked against the API and the database.</summary>
public sealed class AdminOpsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_finds_a_user_deactivates_them_after_confirming_and_their_token_is_refused_then_reactivates_them()
    {
        var admin = await factory.CreateAdminAsync();
        var user = await factory.RegisterAsync();
        using var userClient = await factory.ClientForAsync(user);
        (await userClient.GetAsync("/api/v1/me", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/users");

        await browser.Page.GetByLabel("Name or e-mail contains").FillAsync(user.UserName!);
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("1 user found.");
        await browser.AssertAccessibleAsync();
        await browser.Page.GetByRole(AriaRole.Link, new() { Name = user.UserName }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(user.UserName!);
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Deactivate…" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Name = $"Deactivate {user.UserName}?" })).ToBeVisibleAsync();
        (await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == user.Id).Select(u => u.IsActive).SingleAsync(Ct))).ShouldBeTrue();
        await browser.AssertAccessibleAsync();
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Yes, deactivate" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The account was deactivated; its sessions have ended.");
        await Expect(browser.Page.GetByTestId("user-state")).ToHaveTextAsync("Deactivated");
        (await userClient.GetAsync("/api/v1/me", Ct)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == user.Id).Select(u => u.IsActive).SingleAsync(Ct))).ShouldBeFalse();
        (await factory.DbAsync(db => db.Set<AuditEntry>().CountAsync(e => e.Action == "user.deactivated" && e.EntityId == user.Id.ToString(CultureInfo.InvariantCulture) && e.ActorId == admin.Id, Ct))).ShouldBe(1);

        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Reactivate" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The account was reactivated.");
        await Expect(browser.Page.GetByTestId("user-state")).ToHaveTextAsync("Active");
        await factory.LoginAsync(user);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task An_admin_changes_a_role_and_the_users_list_filters_by_it()
    {
        var admin = await factory.CreateAdminAsync();
        var user = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, $"/admin/users/{user.Id}");

        await browser.Page.GetByLabel("Role").SelectOptionAsync("admin");
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Change role" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The role was changed.");
        await Expect(browser.Page.GetByTestId("user-role")).ToHaveTextAsync("Admin");
        (await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == user.Id).Select(u => u.Role).SingleAsync(Ct))).ShouldBe("Admin");

        await browser.GotoAsync($"/admin/users?q={user.UserName}&role=admin&active=true");
        await Expect(browser.Page.GetByRole(AriaRole.Link, new() { Name = user.UserName })).ToBeVisibleAsync();
        await browser.GotoAsync($"/admin/users?q={user.UserName}&role=user");
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("0 users found.");
        var refused = await browser.GotoAsync("/admin/users?role=owner");
        refused!.Status.ShouldBe(400);
        await Expect(browser.Page.GetByLabel("Role")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(browser.Page.Locator("#role-error")).ToHaveTextAsync("Use admin or user.");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task An_admin_clears_a_lock_out_and_the_user_can_sign_in_at_once()
    {
        var admin = await factory.CreateAdminAsync();
        var user = await factory.RegisterAsync();
        using var guest = factory.Client();
        for (var attempt = 0; attempt < PagesFactory.MaxFailedAttempts; attempt++)
        {
            using var wrong = await guest.PostJsonAsync("/api/v1/auth/login", new { login = user.UserName, password = "not the password at all" });
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var locked = await guest.PostJsonAsync("/api/v1/auth/login", new { login = user.UserName, password = user.Password }))
        {
            locked.StatusCode.ShouldNotBe(HttpStatusCode.OK);
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, $"/admin/users/{user.Id}");
        await Expect(browser.Page.GetByTestId("user-lock")).ToContainTextAsync("Locked until");

        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Clear lock-out" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The lock-out was cleared; the account can sign in at once.");
        await Expect(browser.Page.GetByTestId("user-lock")).ToHaveTextAsync("Not locked");
        await factory.LoginAsync(user);
        (await factory.DbAsync(db => db.Set<AuditEntry>().CountAsync(e => e.Action == "user.unlocked" && e.EntityId == user.Id.ToString(CultureInfo.InvariantCulture), Ct))).ShouldBe(1);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_setting_out_of_bounds_is_refused_next_to_its_field_and_a_valid_one_is_saved_with_its_history()
    {
        const string key = "auth.refresh_token_lifetime_days";
        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/settings");
        await browser.AssertAccessibleAsync();
        var field = browser.Page.GetByLabel($"New value of {key}");

        await field.FillAsync("400");
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = $"Save {key}" }).ClickAsync();

        await Expect(field).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(field).ToHaveValueAsync("400");
        await Expect(browser.Page.Locator("#value-auth-refresh-token-lifetime-days-error")).ToHaveTextAsync($"'{key}' takes a whole number from 1 to 365.");
        await browser.AssertAccessibleAsync();
        (await SettingValueAsync(admin, key)).ShouldBe(30);

        await field.FillAsync("45");
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = $"Save {key}" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{key} was saved.");
        await Expect(browser.Page.GetByTestId("value-auth-refresh-token-lifetime-days")).ToHaveTextAsync("45");
        (await SettingValueAsync(admin, key)).ShouldBe(45);
        var history = browser.Page.GetByRole(AriaRole.Table, new() { Name = $"Latest changes of {key}" });
        await Expect(history.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync(admin.UserName!);
        await Expect(history.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Cell).Nth(2)).ToHaveTextAsync("45");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_audit_page_filters_by_action_and_entity_shows_what_changed_and_refuses_a_bad_actor()
    {
        var admin = await factory.CreateAdminAsync();
        var user = await factory.RegisterAsync();
        using var adminClient = await factory.ClientForAsync(admin);
        using (var patched = await adminClient.PatchAsync($"/api/v1/admin/users/{user.Id}", JsonContent(new { role = "admin" }), Ct))
        {
            patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/audit");
        await browser.AssertAccessibleAsync();

        await browser.Page.GetByLabel("Action", new() { Exact = true }).FillAsync("user.");
        await browser.Page.GetByLabel("Entity id").FillAsync(user.Id.ToString(CultureInfo.InvariantCulture));
        await browser.Page.GetByLabel("To", new() { Exact = true }).FillAsync(factory.Clock.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("1 entry found.");
        var row = browser.Page.GetByRole(AriaRole.Table, new() { Name = "Audit log, newest first" }).GetByRole(AriaRole.Row).Nth(1);
        await Expect(row).ToContainTextAsync("user.role_changed");
        await Expect(row).ToContainTextAsync($"{admin.UserName} (#{admin.Id})");
        await Expect(row.GetByRole(AriaRole.Listitem)).ToHaveTextAsync("role: User → Admin");
        browser.Page.Url.ShouldContain("action=user.");
        await browser.AssertAccessibleAsync();

        var refused = await browser.GotoAsync("/admin/audit?actor=someone");
        refused!.Status.ShouldBe(400);
        await Expect(browser.Page.GetByLabel("Actor (user id)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(browser.Page.GetByLabel("Actor (user id)")).ToHaveValueAsync("someone");
        await Expect(browser.Page.Locator("#actor-error")).ToHaveTextAsync("The actor is a user id: a positive whole number.");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    private async Task<int> SettingValueAsync(TestAccount admin, string key)
    {
        using var client = await factory.ClientForAsync(admin);
        using var response = await client.GetAsync("/api/v1/admin/settings", Ct);
        var body = await response.JsonAsync();
        return body.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("key").GetString() == key).GetProperty("value").GetInt32();
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
