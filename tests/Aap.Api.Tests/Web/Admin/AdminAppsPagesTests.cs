using System.Net;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web.Admin;

/// <summary><c>/admin/apps</c>: an admin publishes, edits, deactivates, deletes and restores an app, and the catalog API follows each step.</summary>
public sealed class AdminAppsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_creates_an_app_after_a_field_error_then_edits_deactivates_deletes_and_restores_it()
    {
        var admin = await factory.CreateAdminAsync();
        using var api = factory.Client();
        var name = $"Page app {Guid.NewGuid():N}"[..20];
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/apps/new");
        var page = browser.Page;
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Link").FillAsync("not a link");
        await page.GetByLabel("Points").FillAsync("15");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await Expect(page.GetByLabel("Link")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByText("The link is an absolute http or https URL")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Name")).ToHaveValueAsync(name);
        await Expect(page.GetByLabel("Points")).ToHaveValueAsync("15");
        await browser.AssertAccessibleAsync();
        (await FindInCatalogAsync(api, name)).ShouldBeNull();

        await page.GetByLabel("Link").FillAsync("https://play.google.com/store/apps/details?id=page.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await page.WaitForAddressAsync(url => url.EndsWith("/admin/apps", StringComparison.Ordinal));
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is published.");
        var id = (await FindInCatalogAsync(api, name)).ShouldNotBeNull();
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("Search").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row, new() { Name = name });
        await Expect(row).ToHaveCountAsync(1);
        await row.GetByRole(AriaRole.Link, new() { Name = "Edit" }).ClickAsync();
        await Expect(page.GetByLabel("Points")).ToHaveValueAsync("15");
        await page.GetByLabel("Points").FillAsync("42");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save app" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is saved.");
        (await CatalogPointsAsync(api, id)).ShouldBe(42);

        await page.GotoAsync($"/admin/apps?q={Uri.EscapeDataString(name)}");
        await row.GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is now inactive.");
        await Expect(row.GetByRole(AriaRole.Cell, new() { Name = "Inactive", Exact = true })).ToBeVisibleAsync();
        (await CatalogPointsAsync(api, id)).ShouldBeNull();
        await row.GetByRole(AriaRole.Button, new() { Name = "Activate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is now active.");
        (await CatalogPointsAsync(api, id)).ShouldBe(42);

        await row.GetByRole(AriaRole.Link, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Delete {name}?");
        await browser.AssertAccessibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete app" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{name} is deleted");
        (await CatalogPointsAsync(api, id)).ShouldBeNull();

        await page.GetByLabel("Search").FillAsync(name);
        await page.GetByLabel("Status").SelectOptionAsync("deleted");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("state=deleted"));
        await row.GetByRole(AriaRole.Button, new() { Name = "Restore" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is restored.");
        (await CatalogPointsAsync(api, id)).ShouldBe(42);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_apps_table_sorts_by_a_column_header_and_pages_through_the_query_string()
    {
        var admin = await factory.CreateAdminAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        using (var client = await factory.ClientForAsync(admin))
        {
            foreach (var points in new[] { 30, 10, 20 })
            {
                using var created = await client.PostJsonAsync("/api/v1/apps", new { name = $"Sort {tag} {points}", link = "https://example.test/app", points });
                created.StatusCode.ShouldBe(HttpStatusCode.Created);
            }
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, $"/admin/apps?q=Sort+{tag}");
        var page = browser.Page;
        await page.GetByRole(AriaRole.Columnheader, new() { Name = "Points" }).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("sort=points"));
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync([$"Sort {tag} 10", $"Sort {tag} 20", $"Sort {tag} 30"]);
        await page.GetByRole(AriaRole.Columnheader, new() { Name = "Points" }).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync([$"Sort {tag} 30", $"Sort {tag} 20", $"Sort {tag} 10"]);
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Points" })).ToHaveAttributeAsync("aria-sort", "descending");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    /// <summary>The app's id when <c>GET /api/v1/apps?q=</c> lists it, or null.</summary>
    private static async Task<long?> FindInCatalogAsync(HttpClient api, string name)
    {
        using var response = await api.GetAsync($"/api/v1/apps?q={Uri.EscapeDataString(name)}", Ct);
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray()
            .Where(a => a.GetProperty("name").GetString() == name).Select(a => (long?)a.GetProperty("id").GetInt64()).SingleOrDefault();
    }

    /// <summary>The app's points from <c>GET /api/v1/apps/{id}</c>, or null when the catalog does not show it (404).</summary>
    private static async Task<int?> CatalogPointsAsync(HttpClient api, long id)
    {
        using var response = await api.GetAsync($"/api/v1/apps/{id}", Ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("points").GetInt32();
    }
}
