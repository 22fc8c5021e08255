using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Browser;

/// <summary>
/// The browsable API works in a real browser: a newcomer opens <c>/docs</c>, authorizes with the access token of a
/// login, and runs "Try it out" on their account and on a completion upload. Chromium is Debian's (scripts/test.sh
/// installs it); without it this test fails, it never skips.
/// </summary>
public sealed partial class SwaggerUiTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string Chromium = "/usr/bin/chromium";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_newcomer_authorizes_with_a_token_and_runs_try_it_out_on_me_and_on_a_completion_upload()
    {
        File.Exists(Chromium).ShouldBeTrue($"The browser tests need Chromium at {Chromium}: scripts/test.sh installs Debian's chromium package (apt-get install chromium).");
        var appId = await PublishAppAsync();
        var account = await factory.RegisterAsync();
        var token = (await factory.LoginAsync(account)).AccessToken;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = factory.ServerAddress.ToString() });
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync("/docs");

        await page.GetByRole(AriaRole.Button, new() { Name = "Authorize", Exact = true }).ClickAsync();
        var bearer = page.GetByRole(AriaRole.Textbox, new() { Name = "auth-bearer-value" });
        await bearer.FillAsync(token);
        var bearerForm = page.Locator("form").Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "bearer (http, Bearer)" }) });
        await bearerForm.GetByRole(AriaRole.Button, new() { Name = "Apply credentials" }).ClickAsync();
        await Expect(bearerForm.GetByRole(AriaRole.Button, new() { Name = "Remove authorization" })).ToBeVisibleAsync();
        await bearerForm.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();

        var me = await OpenOperationAsync(page, "The caller's account.");
        await me.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await me.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Expect(ServerResponseStatus(me)).ToHaveTextAsync("200");
        await Expect(me.Locator(".live-responses-table")).ToContainTextAsync(account.UserName!);

        var completion = await OpenOperationAsync(page, "Complete an app's task with a screenshot");
        await completion.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await completion.GetByPlaceholder("id", new() { Exact = true }).FillAsync(appId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await completion.Locator("input[type=file]").SetInputFilesAsync(new FilePayload { Name = "proof.png", MimeType = "image/png", Buffer = Screenshot() });
        await completion.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Expect(ServerResponseStatus(completion)).ToHaveTextAsync("201");

        using var client = await factory.ClientForAsync(account);
        using var mine = await client.GetAsync("/api/v1/me/completions", Ct);
        (await mine.JsonAsync()).GetProperty("data").EnumerateArray().Select(c => c.GetProperty("app_id").GetInt64()).ShouldBe([appId]);
    }

    [Fact]
    public async Task The_seed_dialects_come_last_and_closed_while_the_product_sections_are_open()
    {
        File.Exists(Chromium).ShouldBeTrue($"The browser tests need Chromium at {Chromium}: scripts/test.sh installs Debian's chromium package (apt-get install chromium).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = factory.ServerAddress.ToString() });
        page.SetDefaultTimeout(15_000);
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                refused.Add(message.Text);
            }
        };
        await page.GotoAsync("/docs");

        var seed = page.Locator("h3.opblock-tag[data-tag='Seed dialects']");
        await Expect(seed).ToHaveAttributeAsync("data-is-open", "false");
        await Expect(page.Locator("h3.opblock-tag[data-tag='Auth']")).ToHaveAttributeAsync("data-is-open", "true");
        var tags = await page.Locator("h3.opblock-tag").EvaluateAllAsync<string[]>("headings => headings.map(h => h.dataset.tag)");
        tags[..3].ShouldBe(["Status", "Auth", "Me"]);
        tags[^1].ShouldBe("Seed dialects");
        (await page.Locator("h3.opblock-tag[data-is-open='true']").CountAsync()).ShouldBe(tags.Length - 1, "every other section stays open");
        await Expect(page.Locator(".opblock-tag-section").Last.Locator(".opblock")).ToHaveCountAsync(0);
        await Expect(seed).ToContainTextAsync("new clients should use /api/v1");

        await seed.ClickAsync();
        await Expect(seed).ToHaveAttributeAsync("data-is-open", "true");
        await Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("Seed 004 login") })).ToBeVisibleAsync();
        refused.ShouldBeEmpty("the page runs under the docs' Content-Security-Policy without a refusal");
    }

    /// <summary>Expands the operation whose summary starts with <paramref name="summary"/>, as a reader clicks its row.</summary>
    private static async Task<ILocator> OpenOperationAsync(IPage page, string summary)
    {
        var row = page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex(Regex.Escape(summary)) });
        await row.ClickAsync();
        await Expect(row).ToHaveAttributeAsync("aria-expanded", "true");
        return page.Locator(".opblock").Filter(new() { Has = row });
    }

    /// <summary>The status code of the answer the page shows under "Server response".</summary>
    private static ILocator ServerResponseStatus(ILocator operation) =>
        operation.Locator(".live-responses-table tbody .response-col_status");

    private async Task<long> PublishAppAsync()
    {
        var admin = await factory.CreateAdminAsync();
        using var client = await factory.ClientForAsync(admin);
        using var created = await client.PostAsJsonAsync("/api/v1/apps",
            new { name = $"Docs {Guid.NewGuid():N}"[..20], link = "https://example.test/app", points = 10 }, AapFactory.Json, Ct);
        var body = await created.JsonAsync();
        created.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>A valid PNG that no other test uploads (a completion's proof must not be reused).</summary>
    private static byte[] Screenshot() => Images.Screenshot();
}
