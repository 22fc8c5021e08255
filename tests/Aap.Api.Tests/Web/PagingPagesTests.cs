using System.Net;
using System.Net.Http.Json;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// The one pager (<c>_PageLinks</c>) under the lists of 20: the ledger, the to-dos, admin users and the audit log.
/// "Next page" and "Previous page" move through the list, keep its filters and put <c>?page=</c> in the address,
/// which can be reloaded.
/// </summary>
public sealed class PagingPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_ledger_pages_through_21_entries()
    {
        var sender = await factory.RegisterAsync();
        var recipient = await factory.RegisterAsync();
        using (var api = await factory.ClientForAsync(sender))
        {
            using (var completed = await api.CompleteAsync(await factory.AddAppAsync(100), Images.Screenshot()))
            {
                completed.StatusCode.ShouldBe(HttpStatusCode.Created);
            }

            for (var i = 0; i < 21; i++)
            {
                using var sent = await api.TransferAsync(recipient.UserName, 1, Guid.NewGuid().ToString());
                sent.StatusCode.ShouldBe(HttpStatusCode.Created, await sent.Content.ReadAsStringAsync(Ct));
            }
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(recipient, "/points");

        await PageThroughAsync(browser, "History pages", "/points");
        await Expect(browser.Page.GetByTestId("balance")).ToHaveTextAsync("21");
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_to_do_list_pages_through_21_matches_of_a_search_and_keeps_the_search()
    {
        var account = await factory.RegisterAsync();
        using (var api = await factory.ClientForAsync(account))
        {
            foreach (var title in Enumerable.Range(1, 21).Select(i => $"Paged {i:00}").Append("Not this one"))
            {
                using var created = await api.PostAsJsonAsync("/api/v1/todos", new { title }, Ct);
                created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            }
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account, "/todos?q=Paged");

        await PageThroughAsync(browser, "To-do pages", "q=Paged");
        await Expect(browser.Page.GetByRole(AriaRole.Rowheader).Filter(new() { HasText = "Not this one" })).ToHaveCountAsync(0);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Admin_users_pages_through_21_matches_of_a_search_and_keeps_the_search()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 21; i++)
        {
            await factory.RegisterAsync($"pg{tag}{i:00}", $"pg{tag}{i:00}@example.test");
        }

        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, $"/admin/users?q=pg{tag}");
        await Expect(browser.Page.GetByText("21 users found.")).ToBeVisibleAsync();

        await PageThroughAsync(browser, "Pages of users", $"q=pg{tag}");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_audit_log_pages_through_21_entries_of_one_actor_and_keeps_the_filter()
    {
        var admin = await factory.CreateAdminAsync();
        using (var api = await factory.ClientForAsync(admin))
        {
            for (var i = 0; i < 21; i++)
            {
                using var set = await api.PutAsJsonAsync("/api/v1/admin/settings/auth.refresh_family_max_days", new { value = 100 + i }, Ct);
                set.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, $"/admin/audit?actor={admin.Id}");
        await Expect(browser.Page.GetByText("21 entries found.")).ToBeVisibleAsync();

        await PageThroughAsync(browser, "Pages of the audit log", $"actor={admin.Id}");
        await browser.AssertNoProblemsAsync();
    }

    /// <summary>
    /// On page 1 of 2 (20 rows), "Next page" leads to page 2 (1 row) with <c>page=2</c> and <paramref name="kept"/>
    /// in the address, which reloads to the same page; "Previous page" comes back to page 1.
    /// </summary>
    private static async Task PageThroughAsync(BrowserSession browser, string label, string kept)
    {
        var page = browser.Page;
        var pager = page.GetByRole(AriaRole.Navigation, new() { Name = label });
        var rows = page.GetByRole(AriaRole.Table).GetByRole(AriaRole.Row);
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
        await Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Previous page" })).ToHaveCountAsync(0);
        await Expect(rows).ToHaveCountAsync(21); // the header and 20

        await pager.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();

        await page.WaitForAddressAsync(url => url.Contains("page=2", StringComparison.Ordinal) && url.Contains(kept, StringComparison.Ordinal));
        await Expect(pager).ToContainTextAsync("Page 2 of 2");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await Expect(pager).ToContainTextAsync("Page 2 of 2");
        await Expect(rows).ToHaveCountAsync(2);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).ClickAsync();

        await page.WaitForAddressAsync(url => !url.Contains("page=", StringComparison.Ordinal) && url.Contains(kept, StringComparison.Ordinal));
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
        await Expect(rows).ToHaveCountAsync(21);
    }
}
