using System.Text;
using Aap.Api.Features.Imports;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web.Admin;

/// <summary>
/// <c>/admin/imports</c> and <c>/admin/imports/{id}</c> in Chromium: upload a CSV, follow it to its summary; an upload
/// over <c>Imports:MaxUploadBytes</c> is refused beside its field and nothing is stored.
/// </summary>
public sealed class ImportsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_uploads_a_small_csv_and_sees_it_finish_with_its_summary()
    {
        var admin = await factory.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin");
        var page = browser.Page;
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Admin sections" }).GetByRole(AriaRole.Link, new() { Name = "Imports" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Imports");
        await browser.AssertAccessibleAsync();

        await page.GetByLabel("CSV file").SetInputFilesAsync(new FilePayload
        {
            Name = "cities.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes("City,Population,Capital\nParis,2100000,yes\nLyon,,no\nNice,340000,no\n"),
        });
        await page.GetByLabel("Table", new() { Exact = true }).FillAsync("cities");
        await page.GetByLabel("Required columns").FillAsync("population");
        await page.GetByLabel("Boolean columns").FillAsync("capital");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start import" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Import of cities.csv into cities");
        // The page follows the import until it has ended.
        await Expect(page.GetByTestId("import-state")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        var summary = page.GetByTestId("import-summary");
        await Expect(summary).ToContainTextAsync("3 rows read");
        await Expect(summary).ToContainTextAsync("2 loaded");
        await Expect(summary).ToContainTextAsync("1 rejected");
        await Expect(page.GetByTestId("import-progress")).ToContainTextAsync("3 rows read, 1 rejected");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Download the rejected rows (CSV)" })).ToBeVisibleAsync();
        var stored = await factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(i => i.TableName == "cities", Ct));
        stored.State.ShouldBe(ImportStates.Succeeded);
        stored.RowsLoaded.ShouldBe(2);
        await browser.AssertAccessibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Imports", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Imports, newest first" })).ToContainTextAsync("cities.csv");
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_refused_beside_the_file_field_and_nothing_is_stored()
    {
        const int limit = 2000;
        await using var limited = PagesFactory.ForPages(new SqliteFactory());
        limited.With("Imports:MaxUploadBytes", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await limited.InitializeAsync();
        var admin = await limited.CreateAdminAsync();
        await using var browser = await BrowserSession.StartAsync(limited);
        await browser.SignInAsync(admin, "/admin/imports");
        var page = browser.Page;

        await page.GetByLabel("CSV file").SetInputFilesAsync(new FilePayload
        {
            Name = "big.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes("id,name\n" + string.Concat(Enumerable.Range(1, 500).Select(i => $"{i},name number {i}\n"))),
        });
        await page.GetByLabel("Table", new() { Exact = true }).FillAsync("big");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start import" }).ClickAsync();

        var error = page.Locator("#import_file-error");
        await Expect(error).ToContainTextAsync($"limit of {limit} bytes");
        await Expect(page.GetByLabel("CSV file")).ToHaveAttributeAsync("aria-describedby", "import_file-error");
        (await limited.DbAsync(db => db.Set<DataImport>().AsNoTracking().CountAsync(Ct))).ShouldBe(0);
        await browser.AssertAccessibleAsync();
    }
}
