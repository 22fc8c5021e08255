using System.Net;
using System.Net.Http.Json;
using System.Text;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// <c>/apps</c> and <c>/apps/{id}</c> in a real browser: browsing the catalog, an app's page, and completing its task
/// with a screenshot (drop zone, preview, the browser's own check, the XHR upload and the server's refusals).
/// Review is required on this class's host (turned on, never off), so a completion stays pending.
/// </summary>
public sealed class AppsPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private const string FileLabel = "Screenshot of the completed task";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_guest_browses_the_catalog_by_search_category_sort_and_page_and_the_address_keeps_the_list()
    {
        var tag = $"Zq{Guid.NewGuid():N}"[..12];
        for (var i = 1; i <= 12; i++)
        {
            await AddAppAsync($"{tag} App {i:00}", points: i * 10, category: i % 2 == 0 ? "tools" : "games", description: $"Number {i}.");
        }

        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.GotoAsync("/apps");
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Apps");
        await browser.AssertAccessibleAsync();

        await browser.Page.GetByLabel("Search apps").FillAsync(tag);
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("12 apps · page 1 of 2");
        await Expect(AppLinks(browser)).ToHaveCountAsync(10);
        await browser.Page.WaitForAddressAsync(url => url.Contains($"q={tag}", StringComparison.Ordinal));

        await browser.Page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("12 apps · page 2 of 2");
        await Expect(AppLinks(browser)).ToHaveCountAsync(2);
        await browser.Page.WaitForAddressAsync(url => url.Contains("page=2", StringComparison.Ordinal));
        await Expect(browser.Page.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);

        await browser.Page.GetByLabel("Category").SelectOptionAsync(new SelectOptionValue { Label = "Tools" });
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("6 apps · page 1 of 1");
        await browser.Page.GetByLabel("Sort by").SelectOptionAsync(new SelectOptionValue { Label = "Most points first" });
        await Expect(AppLinks(browser).First).ToHaveTextAsync($"{tag} App 12");
        await browser.Page.WaitForAddressAsync(url => url.Contains("sort=-points", StringComparison.Ordinal) && url.Contains("category=tools", StringComparison.Ordinal));

        // The address is the list: reloading it (the server renders it whole) shows the same apps in the same order.
        var shown = await AppLinks(browser).AllTextContentsAsync();
        await browser.Page.ReloadAsync();
        (await AppLinks(browser).AllTextContentsAsync()).ShouldBe(shown);
        await Expect(browser.Page.GetByLabel("Sort by")).ToHaveValueAsync("-points");
        await Expect(browser.Page.GetByLabel("Category")).ToHaveValueAsync("tools");
        await Expect(browser.Page.GetByLabel("Search apps")).ToHaveValueAsync(tag);

        // What the API lists for the same query, in the same order.
        using var client = factory.Client();
        using var api = await client.GetAsync($"/api/v1/apps?q={tag}&category=tools&sort=-points", Ct);
        var names = (await api.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()!).ToList();
        shown.ShouldBe(names);
        shown.ShouldBe([.. new[] { 12, 10, 8, 6, 4, 2 }.Select(i => $"{tag} App {i:00}")]);

        await AppLinks(browser).First.ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"{tag} App 12");
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_guest_sees_the_app_with_its_store_link_and_is_asked_to_sign_in_to_complete()
    {
        var name = $"Guest {Guid.NewGuid():N}"[..20];
        var app = await AddAppAsync(name, points: 35, category: "games", description: "Play a round.", link: "https://play.google.com/store/apps/details?id=guest.test");
        var user = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);

        await browser.GotoAsync($"/apps/{app}");

        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(name);
        await Expect(browser.Page.GetByTestId("app-points")).ToHaveTextAsync("35");
        await Expect(browser.Page.GetByText("Play a round.")).ToBeVisibleAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Definition).Filter(new() { HasText = "Games" })).ToBeVisibleAsync();
        var store = browser.Page.GetByRole(AriaRole.Link, new() { Name = "Open in the store" });
        await Expect(store).ToHaveAttributeAsync("href", "https://play.google.com/store/apps/details?id=guest.test");
        await Expect(store).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveCountAsync(0);
        await browser.AssertAccessibleAsync();

        await browser.Page.GetByRole(AriaRole.Link, new() { Name = "Sign in to complete" }).ClickAsync();
        await browser.FillSignInAsync(user.UserName!, user.Password);

        await browser.Page.WaitForAddressAsync(url => url.EndsWith($"/apps/{app}", StringComparison.Ordinal));
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Not completed yet.");
        await Expect(browser.Page.GetByLabel(FileLabel)).ToBeVisibleAsync();
        (await browser.GotoAsync("/apps/999999999"))!.Status.ShouldBe(404);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_user_drops_a_png_sees_its_preview_and_after_the_upload_the_pending_status_without_a_reload()
    {
        await RequireReviewAsync();
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"Drop {Guid.NewGuid():N}"[..20], points: 15);
        var screenshot = Images.Screenshot();
        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{app}");
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Not completed yet.");
        await browser.AssertAccessibleAsync();

        // Dropped onto the field (the drop zone has no role of its own), as a file dragged from the desktop would be.
        var transfer = await browser.Page.EvaluateHandleAsync(
            """
            (base64) => {
              const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
              const transfer = new DataTransfer();
              transfer.items.add(new File([bytes], "proof.png", { type: "image/png" }));
              return transfer;
            }
            """, Convert.ToBase64String(screenshot));
        await browser.Page.Locator("[data-drop-zone]").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = transfer });
        await Expect(browser.Page.GetByRole(AriaRole.Img, new() { Name = "Preview of the chosen screenshot" })).ToBeVisibleAsync();
        (await browser.Page.GetByRole(AriaRole.Img, new() { Name = "Preview of the chosen screenshot" }).GetAttributeAsync("src"))!.ShouldStartWith("blob:");
        (await browser.Page.GetByLabel(FileLabel).EvaluateAsync<string>("input => input.files[0].name")).ShouldBe("proof.png");
        await browser.AssertAccessibleAsync();

        await browser.Page.EvaluateAsync("() => { window.notReloaded = true; }");
        var post = await browser.Page.RunAndWaitForRequestAsync(
            () => browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync(),
            request => request.Method == "POST" && request.Url.EndsWith($"/apps/{app}", StringComparison.Ordinal));

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Pending review: an admin will check your screenshot.");
        (await post.AllHeadersAsync()).ShouldContainKeyAndValue("x-upload-partial", "true");
        (await browser.Page.EvaluateAsync<bool>("() => window.notReloaded === true")).ShouldBeTrue();
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveCountAsync(0);
        var stored = await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.UserId == user.Id && c.AppId == app)
            .Select(c => new { c.Status, c.Flagged, c.Points, c.ScreenshotFileId }).SingleAsync(Ct));
        stored.Status.ShouldBe(CompletionStatus.Pending);
        stored.Flagged.ShouldBeFalse();
        stored.Points.ShouldBe(15);
        (await factory.DbAsync(db => db.Set<StoredFile>().SingleAsync(f => f.Id == stored.ScreenshotFileId, Ct))).Size.ShouldBe(screenshot.Length);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_text_file_named_png_passes_the_browser_but_the_server_refuses_it_next_to_the_field_and_stores_nothing()
    {
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"Fake {Guid.NewGuid():N}"[..20]);
        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{app}");

        // Declared as a PNG, so the browser's check lets it through: only the server reads the bytes.
        await browser.Page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload
        {
            Name = "proof.png", MimeType = "image/png", Buffer = Encoding.UTF8.GetBytes("just some text, not an image at all"),
        });
        await Expect(browser.Page.GetByText("not an accepted image")).ToHaveCountAsync(0);
        var refused = await browser.Page.RunAndWaitForResponseAsync(
            () => browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync(), r => r.Request.Method == "POST");

        // The XHR gets the API's status for the refusal, with the form and its error to render.
        refused.Status.ShouldBe(415);
        (await refused.AllHeadersAsync())["content-type"].ShouldStartWith("text/html");
        var input = browser.Page.GetByLabel(FileLabel);
        await Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(input).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("The content is not one of the accepted types \\(png, jpeg, webp\\)\\."));
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Not completed yet.");
        (await input.EvaluateAsync<string>("input => input.files[0].name")).ShouldBe("proof.png");
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id, Ct))).ShouldBe(0);
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(f => f.OwnerId == user.Id, Ct))).ShouldBe(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Without_javascript_the_form_posts_and_redirects_to_the_new_status_or_shows_the_refusal_with_its_status()
    {
        await RequireReviewAsync();
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"NoJs {Guid.NewGuid():N}"[..20]);
        await using var browser = await SignedInAsync(user);
        await using var context = await browser.Context.Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = factory.ServerAddress.ToString(), JavaScriptEnabled = false, StorageState = await browser.Context.StorageStateAsync(),
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/apps/{app}");

        await page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "proof.pdf", MimeType = "application/pdf", Buffer = Images.Pdf });
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync(), r => r.Request.Method == "POST");
        refused.Status.ShouldBe(415);
        await Expect(page.GetByLabel(FileLabel)).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByText("The content is not one of the accepted types (png, jpeg, webp).")).ToBeVisibleAsync();

        await page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "proof.png", MimeType = "image/png", Buffer = Images.Screenshot() });
        await page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync();

        await page.WaitForAddressAsync(url => url.EndsWith($"/apps/{app}", StringComparison.Ordinal));
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Pending review: an admin will check your screenshot.");
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id && c.AppId == app && c.Status == CompletionStatus.Pending, Ct))).ShouldBe(1);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Completing_an_app_already_completed_elsewhere_is_refused_next_to_the_field_and_nothing_more_is_stored()
    {
        await RequireReviewAsync();
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"Twice {Guid.NewGuid():N}"[..20]);
        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{app}");
        await Expect(browser.Page.GetByLabel(FileLabel)).ToBeVisibleAsync();

        // Meanwhile, in another tab (the API), the same user completes it.
        using var api = await factory.ClientForAsync(user);
        using (var first = await api.CompleteAsync(app, Images.Screenshot()))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await browser.Page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "again.png", MimeType = "image/png", Buffer = Images.Screenshot() });
        var refused = await browser.Page.RunAndWaitForResponseAsync(
            () => browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync(), r => r.Request.Method == "POST");

        refused.Status.ShouldBe(409);
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("You have already completed this app\\."));
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Pending review: an admin will check your screenshot.");
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id, Ct))).ShouldBe(1);
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(f => f.OwnerId == user.Id, Ct))).ShouldBe(1);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_screenshot_reused_by_its_owner_is_refused_and_one_from_another_user_is_accepted_for_review_and_flagged()
    {
        await RequireReviewAsync();
        var user = await factory.RegisterAsync();
        var other = await factory.RegisterAsync();
        var (first, second, third) = (await AddAppAsync($"ReuseA {Guid.NewGuid():N}"[..20]), await AddAppAsync($"ReuseB {Guid.NewGuid():N}"[..20]), await AddAppAsync($"ReuseC {Guid.NewGuid():N}"[..20]));
        var mine = Images.Screenshot();
        var theirs = Images.Screenshot();
        using (var api = await factory.ClientForAsync(user))
        using (var done = await api.CompleteAsync(first, mine))
        {
            done.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var api = await factory.ClientForAsync(other))
        using (var done = await api.CompleteAsync(third, theirs))
        {
            done.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{second}");
        await browser.Page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "mine.png", MimeType = "image/png", Buffer = mine });
        var refused = await browser.Page.RunAndWaitForResponseAsync(
            () => browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync(), r => r.Request.Method == "POST");
        refused.Status.ShouldBe(409);
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveAccessibleDescriptionAsync(
            new System.Text.RegularExpressions.Regex("This screenshot is already the proof of another of your completions\\."));
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id && c.AppId == second, Ct))).ShouldBe(0);
        (await factory.DbAsync(db => db.Set<StoredFile>().CountAsync(f => f.OwnerId == user.Id, Ct))).ShouldBe(1);

        // Another user's proof is accepted, but waits for an admin, flagged: the page says it is pending review.
        await browser.GotoAsync($"/apps/{third}");
        await browser.Page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "theirs.png", MimeType = "image/png", Buffer = theirs });
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync();
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Pending review: an admin will check your screenshot.");
        var flagged = await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.UserId == user.Id && c.AppId == third).Select(c => new { c.Status, c.Flagged }).SingleAsync(Ct));
        flagged.Status.ShouldBe(CompletionStatus.Pending);
        flagged.Flagged.ShouldBeTrue();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_file_over_the_size_limit_is_refused_by_the_browser_before_any_request()
    {
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"Big {Guid.NewGuid():N}"[..20]);
        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{app}");
        var posts = 0;
        browser.Page.Request += (_, request) =>
        {
            if (request.Method == "POST")
            {
                Interlocked.Increment(ref posts);
            }
        };

        await Expect(browser.Page.GetByText("PNG, JPEG, WEBP, at most 5 MB.", new() { Exact = false })).ToBeVisibleAsync();
        byte[] big = [.. Images.Png, .. new byte[(5 * 1024 * 1024) + 1 - Images.Png.Length]];
        await browser.Page.GetByLabel(FileLabel).SetInputFilesAsync(new FilePayload { Name = "big.png", MimeType = "image/png", Buffer = big });

        var input = browser.Page.GetByLabel(FileLabel);
        await Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(input).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("This file is 5\\.0 MB, larger than the limit of 5 MB\\."));
        await Expect(browser.Page.GetByRole(AriaRole.Img, new() { Name = "Preview of the chosen screenshot" })).ToBeHiddenAsync();
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync();
        await Expect(input).ToBeFocusedAsync();

        posts.ShouldBe(0);
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id, Ct))).ShouldBe(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_app_page_shows_an_approved_completion_with_its_points_and_a_rejected_one_with_the_reason()
    {
        await RequireReviewAsync();
        var user = await factory.RegisterAsync();
        var (approved, rejected) = (await AddAppAsync($"Yes {Guid.NewGuid():N}"[..20], points: 40), await AddAppAsync($"No {Guid.NewGuid():N}"[..20]));
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using (var api = await factory.ClientForAsync(user))
        {
            foreach (var (app, action, body) in new[] { (approved, "approve", (object?)null), (rejected, "reject", (object?)new { reason = "The screenshot shows another app." }) })
            {
                using var done = await api.CompleteAsync(app, Images.Screenshot());
                var id = (await done.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
                using var reviewed = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/{action}", body, Ct);
                reviewed.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }

        await using var browser = await SignedInAsync(user);
        await browser.GotoAsync($"/apps/{approved}");
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Approved: 40 points credited.");
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveCountAsync(0);
        await browser.GotoAsync($"/apps/{rejected}");
        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Rejected: The screenshot shows another app.");
        await Expect(browser.Page.GetByLabel(FileLabel)).ToHaveCountAsync(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task On_a_375_px_phone_the_catalog_and_the_upload_form_fit_the_width()
    {
        var user = await factory.RegisterAsync();
        var app = await AddAppAsync($"Phone {Guid.NewGuid():N}"[..20], category: "tools", description: "A description long enough to wrap on a narrow screen of a phone.");
        await using var browser = await BrowserSession.StartAsync(factory, width: 375, height: 800);
        await browser.SignInAsync(user);

        foreach (var path in new[] { "/apps", $"/apps/{app}" })
        {
            await browser.GotoAsync(path);
            await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            (await browser.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(375, path);
            await browser.AssertAccessibleAsync();
        }

        await Expect(browser.Page.GetByLabel(FileLabel)).ToBeVisibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    private static ILocator AppLinks(BrowserSession browser) =>
        browser.Page.GetByRole(AriaRole.List, new() { Name = "Apps" }).GetByRole(AriaRole.Heading).GetByRole(AriaRole.Link);

    private async Task<BrowserSession> SignedInAsync(TestAccount user)
    {
        var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(user);
        return browser;
    }

    private async Task RequireReviewAsync()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var response = await admin.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = 1 }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>A new active app, written to the catalog table (the catalog's cache is keyed by the search, and each test searches its own names).</summary>
    private Task<long> AddAppAsync(string name, int points = 10, string? category = null, string? description = null, string link = "https://play.google.com/store/apps/details?id=web.test") =>
        factory.DbAsync(async db =>
        {
            var app = new App { Link = link, Points = points, Description = description };
            app.Rename(name);
            if (category is not null)
            {
                app.CategoryId = await db.Set<AppCategory>().Where(c => c.Slug == category).Select(c => (long?)c.Id).SingleAsync(Ct);
            }

            db.Set<App>().Add(app);
            await db.SaveChangesAsync(Ct);
            return app.Id;
        });
}

/// <summary>Completing a task from the app's page on PostgreSQL: credited at once (review off), seen on the page and in the ledger.</summary>
public sealed class PostgresAppsPagesTests
{
    [Fact]
    public async Task On_postgres_a_user_completes_an_app_with_a_png_and_sees_the_points_credited()
    {
        await using var factory = PagesFactory.ForPages(new PostgresFactory());
        await factory.InitializeAsync();
        var user = await factory.RegisterAsync();
        var app = await factory.AddAppAsync(points: 25);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(user);

        await browser.GotoAsync($"/apps/{app}");
        await browser.Page.GetByLabel("Screenshot of the completed task").SetInputFilesAsync(
            new FilePayload { Name = "proof.png", MimeType = "image/png", Buffer = Images.Screenshot() });
        await Expect(browser.Page.GetByRole(AriaRole.Img, new() { Name = "Preview of the chosen screenshot" })).ToBeVisibleAsync();
        await browser.Page.GetByRole(AriaRole.Button, new() { Name = "Send screenshot" }).ClickAsync();

        await Expect(browser.Page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Approved: 25 points credited.");
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.UserId == user.Id && c.AppId == app && c.Status == CompletionStatus.Approved))).ShouldBe(1);
        using var api = await factory.ClientForAsync(user);
        (await api.BalanceAsync()).ShouldBe(25);
        await factory.AssertLedgerMatchesBalancesAsync();
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }
}
