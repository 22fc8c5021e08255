using System.Net;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary><c>/points</c> (balance, ledger, a transfer with a confirmation step) and <c>/leaderboard</c>, in a real browser.</summary>
public sealed class PointsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_confirmed_transfer_moves_the_points_once_however_often_the_confirmation_is_posted()
    {
        var (sender, senderApi) = await UserWithPointsAsync(50);
        var recipient = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(sender, "/points");
        var page = browser.Page;
        await Expect(page.GetByTestId("balance")).ToHaveTextAsync("50");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("Task completed");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("+50");
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("Recipient (username or e-mail)").FillAsync(recipient.UserName!);
        await page.GetByLabel("Amount").FillAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();

        await Expect(page.GetByText($"You are about to send 20 points to {recipient.UserName}.")).ToBeVisibleAsync();
        await Expect(page.GetByText("Your balance will go from 50 to 30 points.")).ToBeVisibleAsync();
        (await factory.DbAsync(db => db.Set<PointTransfer>().CountAsync(t => t.FromUserId == sender.Id, Ct))).ShouldBe(0);
        await browser.AssertAccessibleAsync();

        // The confirmation as the browser would post it, sent twice more (a double click, a reload), then clicked.
        var form = page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).Locator("xpath=ancestor::form");
        var fields = page.Context.APIRequest.CreateFormData();
        foreach (var name in new[] { "Input.To", "Input.Amount", "Input.Key", "__RequestVerificationToken" })
        {
            fields.Set(name, await form.Locator($"input[name='{name}']").InputValueAsync());
        }

        for (var i = 0; i < 2; i++)
        {
            var posted = await page.Context.APIRequest.PostAsync("/points?handler=Confirm", new() { Form = fields, MaxRedirects = 0 });
            posted.Status.ShouldBe((int)HttpStatusCode.Redirect);
            posted.Headers["location"].ShouldStartWith("/points?sent=");
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Transfer sent.");
        await Expect(page.GetByTestId("balance")).ToHaveTextAsync("30");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("Points sent");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("-20");
        (await senderApi.BalanceAsync()).ShouldBe(30);
        (await (await factory.ClientForAsync(recipient)).BalanceAsync()).ShouldBe(20);
        (await factory.DbAsync(db => db.Set<PointTransfer>().CountAsync(t => t.FromUserId == sender.Id, Ct))).ShouldBe(1);
        await factory.AssertLedgerMatchesBalancesAsync();
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Refused_transfers_say_why_next_to_the_field_and_keep_the_input()
    {
        var (sender, _) = await UserWithPointsAsync(10);
        var recipient = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(sender, "/points");
        var page = browser.Page;

        await page.GetByLabel("Amount").FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();
        await Expect(page.GetByLabel("Amount")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByText("The amount is a whole number of points above 0.")).ToBeVisibleAsync();
        await Expect(page.GetByText("Name the recipient by username or email.")).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("Recipient (username or e-mail)").FillAsync(recipient.UserName!);
        await page.GetByLabel("Amount").FillAsync("25");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your balance is too low for this transfer.");
        await Expect(page.GetByLabel("Amount")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Amount")).ToHaveValueAsync("25");
        await Expect(page.GetByLabel("Recipient (username or e-mail)")).ToHaveValueAsync(recipient.UserName!);

        // Corrected, the same form goes through (with a new key: the refusal stays stored under the old one).
        await page.GetByLabel("Amount").FillAsync("4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).ClickAsync();
        await Expect(page.GetByTestId("balance")).ToHaveTextAsync("6");

        await page.GetByLabel("Recipient (username or e-mail)").FillAsync(sender.UserName!);
        await page.GetByLabel("Amount").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).ClickAsync();
        await Expect(page.GetByText("Points cannot be sent to yourself.")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Recipient (username or e-mail)")).ToHaveAttributeAsync("aria-invalid", "true");

        await page.GetByLabel("Recipient (username or e-mail)").FillAsync("nobody_" + Guid.NewGuid().ToString("N")[..8]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Review transfer" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm transfer" }).ClickAsync();
        await Expect(page.GetByText("No active user has this username or email.").First).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();

        (await factory.DbAsync(db => db.Set<PointTransfer>().Where(t => t.FromUserId == sender.Id).Select(t => t.Amount).ToListAsync(Ct))).ShouldBe([4L]);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_leaderboard_ranks_users_by_points_earned_and_is_open_to_guests()
    {
        var (first, _) = await UserWithPointsAsync(900_001);
        var (second, _) = await UserWithPointsAsync(900_000);
        await using var browser = await BrowserSession.StartAsync(factory);

        await browser.GotoAsync("/leaderboard");

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Leaderboard");
        var rows = browser.Page.GetByRole(AriaRole.Row);
        foreach (var (row, rank, account, points) in new[] { (1, "1", first, "900001"), (2, "2", second, "900000") })
        {
            await Expect(rows.Nth(row).GetByRole(AriaRole.Cell).First).ToHaveTextAsync(rank);
            await Expect(rows.Nth(row).GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(account.UserName!);
            await Expect(rows.Nth(row).GetByRole(AriaRole.Cell).Last).ToHaveTextAsync(points);
        }
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_leaderboards_next_and_previous_links_page_through_it_in_the_browser()
    {
        // 60 users below the other test's two and above everyone else this class ranks: pages 1 to 3 of 25. They
        // leave with the test.
        var tag = Guid.NewGuid().ToString("N")[..8];
        try
        {
            await factory.AddEarnersAsync([.. Enumerable.Range(0, 60).Select(i => ($"pager_{tag}_{i:D2}", 800_000L - (i / 4)))]);
            await using var browser = await BrowserSession.StartAsync(factory);
            var page = browser.Page;
            await browser.GotoAsync("/leaderboard");
            var pager = page.GetByRole(AriaRole.Navigation, new() { Name = "Leaderboard pages" });
            var firstRank = page.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Cell).First;

            await pager.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
            await Expect(firstRank).ToHaveTextAsync("26");
            await Expect(pager).ToContainTextAsync("Page 2 of");
            var secondPage = await page.GetByRole(AriaRole.Rowheader).AllTextContentsAsync();
            await pager.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
            await Expect(firstRank).ToHaveTextAsync("51");
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("[?&]page=3&from=[^&]+$"));

            // Back from page 3 by its link, which reads the rows before its first: page 2 again.
            await pager.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).ClickAsync();
            await Expect(firstRank).ToHaveTextAsync("26");
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("[?&]page=2&from=[^&]+$"));
            (await page.GetByRole(AriaRole.Rowheader).AllTextContentsAsync()).ShouldBe(secondPage);
            await browser.AssertAccessibleAsync();
            await browser.AssertNoProblemsAsync();
        }
        finally
        {
            await factory.RemoveUsersAsync($"pager_{tag}_");
        }
    }

    private async Task<(TestAccount Account, HttpClient Client)> UserWithPointsAsync(int points)
    {
        var account = await factory.RegisterAsync();
        var client = await factory.ClientForAsync(account);
        using var response = await client.CompleteAsync(await factory.AddAppAsync(points), Images.Screenshot());
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (account, client);
    }
}
