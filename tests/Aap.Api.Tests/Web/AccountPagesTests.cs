using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>Sign up, sign in, sign out and the home page, in a real browser: no console error, no CSP violation, axe-clean in both themes.</summary>
public sealed class AccountPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    [Fact]
    public async Task A_guest_signs_up_and_lands_signed_in_on_the_home_page_with_a_balance_of_zero()
    {
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.GotoAsync("/");
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome to AAP");
        await browser.AssertAccessibleAsync();
        await browser.GotoAsync("/account/sign-up");
        await browser.AssertAccessibleAsync();

        var account = await browser.SignUpAsync();

        await Expect(browser.Page.GetByTestId("balance")).ToHaveTextAsync("0");
        await Expect(browser.Page.GetByRole(AriaRole.Link, new() { Name = "Sign out" })).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();
        (await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.UserName == account.UserName && u.Role == "User"))).ShouldBe(1);
        (await browser.Context.CookiesAsync()).Select(c => (c.Name, c.Path)).ShouldContain((AuthCookies.Refresh, "/"));
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Signing_out_from_a_shared_page_takes_one_click_ends_the_session_and_shows_the_guest_welcome()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account);
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Hello, {account.UserName}");
        // From the catalog's page, which is shared by every user and carries no antiforgery token (SharedPages).
        await browser.GotoAsync("/apps");
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Apps");

        await browser.Page.GetByRole(AriaRole.Link, new() { Name = "Sign out" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome to AAP");
        (await browser.Context.CookiesAsync()).Select(c => c.Name).ShouldNotContain(AuthCookies.Refresh);
        (await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == account.Id).Select(t => t.RevokedReason).ToListAsync()))
            .ShouldAllBe(reason => reason == "logout");
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_sign_out_page_explains_itself_and_its_button_signs_out()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account);
        // Where the navigation's link leads without scripts (or opened in a new tab).
        await browser.GotoAsync("/account/sign-out");
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign out");
        await browser.AssertAccessibleAsync();

        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out of this browser" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome to AAP");
        (await browser.Context.CookiesAsync()).Select(c => c.Name).ShouldNotContain(AuthCookies.Refresh);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_wrong_password_is_shown_next_to_the_form_and_the_fields_are_marked_invalid()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        var response = await browser.GotoAsync("/account/sign-in");
        response!.Status.ShouldBe(200);
        await browser.AssertAccessibleAsync();

        await browser.FillSignInAsync(account.UserName!, "not the password at all");

        await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The username, e-mail or password is wrong.");
        await Expect(browser.Page.GetByLabel("Username or e-mail")).ToHaveValueAsync(account.UserName!);
        foreach (var field in new[] { "Username or e-mail", "Password" })
        {
            await Expect(browser.Page.GetByLabel(field)).ToHaveAttributeAsync("aria-invalid", "true");
            await Expect(browser.Page.GetByLabel(field)).ToHaveAttributeAsync("aria-describedby", "sign-in-alert");
        }

        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Past_the_attempt_limit_the_form_says_how_long_to_wait()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.GotoAsync("/account/sign-in");
        for (var attempt = 0; attempt < PagesFactory.MaxFailedAttempts; attempt++)
        {
            await browser.FillSignInAsync(account.UserName!, "wrong password " + attempt);
            await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The username, e-mail or password is wrong.");
        }

        await browser.FillSignInAsync(account.UserName!, account.Password);

        // Auth:LockoutMinutes (5) from the first counted attempt, on the application's clock, which did not move.
        await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Too many sign-in attempts. Wait 5 minutes before trying again.");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_weak_password_is_refused_next_to_its_field()
    {
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.GotoAsync("/account/sign-up");
        var name = $"weak_{Guid.NewGuid():N}"[..14];
        await browser.Page.GetByLabel("Username").FillAsync(name);
        await browser.Page.GetByLabel("E-mail").FillAsync($"{name}@example.test");
        await browser.Page.GetByLabel("Password").FillAsync("password1");
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        var password = browser.Page.GetByLabel("Password");
        await Expect(password).ToHaveAttributeAsync("aria-invalid", "true");
        var describedBy = await password.GetAttributeAsync("aria-describedby");
        describedBy.ShouldNotBeNull().ShouldContain("input_password-error");
        var message = await browser.Page.Locator("#input_password-error").TextContentAsync();
        message.ShouldNotBeNullOrWhiteSpace();
        await browser.AssertAccessibleAsync();
        (await factory.DbAsync(db => db.Set<User>().CountAsync(u => u.UserName == name))).ShouldBe(0);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_home_page_is_usable_375_pixels_wide()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory, width: 375, height: 740);
        await browser.SignInAsync(account);

        var width = await browser.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        width.ShouldBeLessThanOrEqualTo(375, "nothing may overflow sideways on a phone");
        await Expect(browser.Page.GetByRole(AriaRole.Link, new() { Name = "Sign out" })).ToBeInViewportAsync();
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_page_stays_signed_in_after_the_access_token_expired()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account);

        // The browser still sends the cookie (its max-age runs on real time); on the server's clock the token expired.
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        await browser.Page.ReloadAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Hello, {account.UserName}");
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id && t.RevokedAt == null && t.UsedAt == null))).ShouldBe(1);
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == account.Id))).ShouldBe(2);
        await browser.AssertNoProblemsAsync();
    }
}
