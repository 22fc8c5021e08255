using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>The account pages on PostgreSQL (keys, tokens and throttle in its tables), in a real browser.</summary>
public sealed class PostgresPagesTests
{
    [Fact]
    public async Task On_postgres_a_guest_signs_up_signs_out_and_signs_in_again()
    {
        await using var factory = PagesFactory.ForPages(new PostgresFactory());
        await factory.InitializeAsync();
        await using var browser = await BrowserSession.StartAsync(factory);

        var account = await browser.SignUpAsync();
        await browser.Page.GetByRole(AriaRole.Link, new() { Name = "Sign out" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome to AAP");
        await browser.SignInAsync(account);

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Hello, {account.UserName}");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }
}
