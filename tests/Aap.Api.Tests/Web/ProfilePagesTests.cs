using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary><c>/profile</c>: username and e-mail, the password, and the sessions, in a real browser.</summary>
public sealed class ProfilePagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_username_is_what_the_api_shows_and_a_taken_one_is_refused_next_to_the_field()
    {
        var account = await factory.RegisterAsync();
        var other = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account, "/profile");
        var page = browser.Page;
        await Expect(page.GetByLabel("Username", new() { Exact = true })).ToHaveValueAsync(account.UserName!);
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("Username", new() { Exact = true }).FillAsync(other.UserName!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.GetByLabel("Username", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The profile cannot be changed.");
        await browser.AssertAccessibleAsync();

        var renamed = "renamed_" + Guid.NewGuid().ToString("N")[..8];
        await page.GetByLabel("Username", new() { Exact = true }).FillAsync(renamed);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Your profile was saved.");
        await Expect(page.GetByLabel("Username", new() { Exact = true })).ToHaveValueAsync(renamed);
        var me = await page.APIRequest.GetAsync("/api/v1/me");
        me.Status.ShouldBe(200);
        (await me.JsonAsync())!.Value.GetProperty("data").GetProperty("username").GetString().ShouldBe(renamed);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task After_a_password_change_this_browser_stays_signed_in_and_the_old_password_fails()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account, "/profile");
        var page = browser.Page;

        await page.GetByLabel("Current password").FillAsync(account.Password);
        await page.GetByLabel("New password").FillAsync("password123");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.GetByLabel("New password")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The password cannot be changed.");
        await browser.AssertAccessibleAsync();

        const string NewPassword = "violet orbit lantern 42";
        await page.GetByLabel("Current password").FillAsync(account.Password);
        await page.GetByLabel("New password").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Your password was changed. Every other session was signed out.");
        await Expect(page.GetByRole(AriaRole.Rowheader, new() { Name = "This browser" })).ToBeVisibleAsync();
        await browser.GotoAsync("/points");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Points");
        using var client = factory.Client();
        using var old = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = account.Password });
        old.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var fresh = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = NewPassword });
        fresh.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id && t.RevokedReason == "password_changed", Ct))).ShouldBe(1);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Signing_out_another_session_signs_that_browser_out_at_its_next_page()
    {
        var account = await factory.RegisterAsync();
        await using var laptop = await BrowserSession.StartAsync(factory);
        await using var phone = await BrowserSession.StartAsync(factory, width: 375);
        await laptop.SignInAsync(account, "/profile");
        await phone.SignInAsync(account, "/profile");
        await Expect(phone.Page.GetByRole(AriaRole.Rowheader, new() { Name = "This browser" })).ToBeVisibleAsync();
        await phone.AssertAccessibleAsync();

        await laptop.Page.ReloadAsync();
        await Expect(laptop.Page.GetByRole(AriaRole.Caption)).ToHaveTextAsync("Where you are signed in (2)");
        var phoneSession = laptop.Page.GetByRole(AriaRole.Row).Filter(new() { HasNot = laptop.Page.GetByText("This browser") }).Last;
        await phoneSession.GetByRole(AriaRole.Button).ClickAsync();

        await Expect(laptop.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("That session was signed out.");
        await Expect(laptop.Page.GetByRole(AriaRole.Caption)).ToHaveTextAsync("Where you are signed in (1)");

        // Ended sessions apply at once: the phone's access token, still within its lifetime, is refused on its next page.
        await phone.GotoAsync("/points");
        await phone.Page.WaitForAddressAsync(url => url.Contains("/account/sign-in", StringComparison.Ordinal));
        await laptop.GotoAsync("/points");
        await Expect(laptop.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Points");

        // "Everywhere" ends this browser's session too.
        await laptop.GotoAsync("/profile");
        await laptop.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere", Exact = true }).ClickAsync();
        await laptop.Page.WaitForAddressAsync(url => url.Contains("/account/sign-in", StringComparison.Ordinal));
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id && t.RevokedAt == null, Ct))).ShouldBe(0);
        await laptop.AssertNoProblemsAsync();
        await phone.AssertNoProblemsAsync();
    }
}
