using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary><c>/admin/**</c> needs the admin policy: a guest is sent to sign in and back, a user gets the 403 page.</summary>
public sealed class AdminPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    [Fact]
    public async Task A_guest_opening_admin_signs_in_as_an_admin_and_lands_back_on_admin()
    {
        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);

        await browser.GotoAsync("/admin");

        browser.Page.Url.ShouldEndWith("/account/sign-in?returnUrl=%2Fadmin");
        await browser.FillSignInAsync(admin.UserName!, admin.Password);
        await browser.Page.WaitForAddressAsync(url => url.EndsWith("/admin", StringComparison.Ordinal));
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Admin");
        await Expect(browser.Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_user_opening_admin_gets_the_403_page_in_the_layout()
    {
        var user = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(user);

        var response = await browser.GotoAsync("/admin");

        response!.Status.ShouldBe(403);
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not allowed");
        await Expect(browser.Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveCountAsync(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_missing_page_is_the_404_page_in_the_layout()
    {
        await using var browser = await BrowserSession.StartAsync(factory);

        var response = await browser.GotoAsync("/no-such-page");

        response!.Status.ShouldBe(404);
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Page not found");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }
}
