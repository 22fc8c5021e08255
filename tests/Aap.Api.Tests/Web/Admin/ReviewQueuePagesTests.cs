using System.Net;
using System.Net.Http.Json;
using Aap.Api.Tests.Features.Files;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web.Admin;

/// <summary>
/// <c>/admin/review</c>: users complete tasks through the API, an admin reviews them in the queue (one by one, several
/// at once, by keyboard), and the users see the outcome through the API. The class's host requires review.
/// </summary>
public sealed class ReviewQueuePagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task An_admin_approves_one_completion_and_rejects_another_with_a_reason_the_user_then_sees() => ApproveAndRejectAsync(factory);

    /// <summary>The main flow, also run on PostgreSQL (<see cref="ReviewQueuePostgresTests"/>).</summary>
    internal static async Task ApproveAndRejectAsync(AapFactory factory)
    {
        var (admin, user, userClient) = await ArrangeAsync(factory);
        using var _ = userClient;
        var approved = await CompleteAsync(factory, userClient, points: 25);
        var rejected = await CompleteAsync(factory, userClient, points: 5);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Review queue");
        var thumbnail = Item(page, user, approved.AppName).GetByRole(AriaRole.Img);
        await Expect(thumbnail).ToHaveJSPropertyAsync("complete", true);
        (await thumbnail.EvaluateAsync<int>("img => img.naturalWidth")).ShouldBeGreaterThan(0);
        await browser.AssertAccessibleAsync();

        await Item(page, user, approved.AppName).GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Completion {approved.Id} approved.");
        await Expect(Item(page, user, approved.AppName)).ToHaveCountAsync(0);
        (await userClient.BalanceAsync()).ShouldBe(25);

        var item = Item(page, user, rejected.AppName);
        await item.GetByText("Reject…").ClickAsync();
        await item.GetByRole(AriaRole.Button, new() { Name = "Reject", Exact = true }).ClickAsync();
        item = Item(page, user, rejected.AppName);
        await Expect(item.GetByLabel("Reason for rejecting")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(item.GetByText("A reason of 1 to 500 characters is required.")).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();
        (await StatusAsync(userClient, rejected.Id)).Status.ShouldBe("pending");

        await item.GetByLabel("Reason for rejecting").FillAsync("The screenshot shows another game.");
        await item.GetByRole(AriaRole.Button, new() { Name = "Reject", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Completion {rejected.Id} rejected.");
        (await StatusAsync(userClient, rejected.Id)).ShouldBe(("rejected", "The screenshot shows another game."));
        (await userClient.BalanceAsync()).ShouldBe(25);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Approve_selected_approves_two_completions_at_once()
    {
        var (admin, user, userClient) = await ArrangeAsync(factory);
        using var _ = userClient;
        var first = await CompleteAsync(factory, userClient, points: 10);
        var second = await CompleteAsync(factory, userClient, points: 7);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;

        await page.GetByLabel($"Select {user.UserName} · {first.AppName}").CheckAsync();
        await page.GetByLabel($"Select {user.UserName} · {second.AppName}").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve selected" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("2 completion(s) approved.");
        (await userClient.BalanceAsync()).ShouldBe(17);
        (await StatusAsync(userClient, first.Id)).Status.ShouldBe("approved");
        (await StatusAsync(userClient, second.Id)).Status.ShouldBe("approved");
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Reject_selected_rejects_two_completions_at_once_with_one_reason_and_without_a_reason_rejects_none()
    {
        var (admin, user, userClient) = await ArrangeAsync(factory);
        using var _ = userClient;
        var first = await CompleteAsync(factory, userClient, points: 10);
        var second = await CompleteAsync(factory, userClient, points: 7);
        var untouched = await CompleteAsync(factory, userClient, points: 3);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;

        // No reason: refused next to the field, nothing rejected.
        await page.GetByLabel($"Select {user.UserName} · {first.AppName}").CheckAsync();
        await page.GetByLabel($"Select {user.UserName} · {second.AppName}").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject selected" }).ClickAsync();
        var reason = page.GetByLabel("Reason for rejecting the selected");
        await Expect(reason).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(reason).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("A reason of 1 to 500 characters is required\\."));
        (await StatusAsync(userClient, first.Id)).Status.ShouldBe("pending");
        (await StatusAsync(userClient, second.Id)).Status.ShouldBe("pending");
        await browser.AssertAccessibleAsync();

        await page.GetByLabel($"Select {user.UserName} · {first.AppName}").CheckAsync();
        await page.GetByLabel($"Select {user.UserName} · {second.AppName}").CheckAsync();
        await reason.FillAsync("Both screenshots show the home screen.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject selected" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("2 completion(s) rejected.");
        await Expect(Item(page, user, first.AppName)).ToHaveCountAsync(0);
        await Expect(Item(page, user, second.AppName)).ToHaveCountAsync(0);
        await Expect(Item(page, user, untouched.AppName)).ToBeVisibleAsync();
        (await StatusAsync(userClient, first.Id)).ShouldBe(("rejected", "Both screenshots show the home screen."));
        (await StatusAsync(userClient, second.Id)).ShouldBe(("rejected", "Both screenshots show the home screen."));
        (await StatusAsync(userClient, untouched.Id)).Status.ShouldBe("pending");
        (await userClient.BalanceAsync()).ShouldBe(0);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_flagged_completion_shows_the_other_completion_of_the_same_image_side_by_side()
    {
        var (admin, first, firstClient) = await ArrangeAsync(factory);
        using var _ = firstClient;
        var second = await factory.RegisterAsync();
        using var secondClient = await factory.ClientForAsync(second);
        var image = Images.Screenshot();
        var original = await CompleteAsync(factory, firstClient, points: 10, image);
        var copy = await CompleteAsync(factory, secondClient, points: 10, image);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;

        var item = Item(page, second, copy.AppName);
        await Expect(item.GetByText("Flagged: the same image was sent by another user")).ToBeVisibleAsync();
        await Expect(item.GetByRole(AriaRole.Figure)).ToHaveCountAsync(2);
        await Expect(item.GetByRole(AriaRole.Img, new() { Name = $"Screenshot from {first.UserName} for {original.AppName} (open full size)" })).ToBeVisibleAsync();
        await Expect(item.GetByText($"Same image: {first.UserName} · {original.AppName} · pending")).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task Keyboard_a_approves_the_focused_completion_and_r_opens_its_reject_form()
    {
        var (admin, user, userClient) = await ArrangeAsync(factory);
        using var _ = userClient;
        var completion = await CompleteAsync(factory, userClient, points: 12);
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;
        await Expect(page.GetByText("Keyboard: j next")).ToBeVisibleAsync();

        var item = Item(page, user, completion.AppName);
        await item.GetByRole(AriaRole.Heading).ClickAsync();
        await Expect(item).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("r");
        await Expect(item.GetByLabel("Reason for rejecting")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("a");
        await Expect(item.GetByLabel("Reason for rejecting")).ToHaveValueAsync("a");

        await item.GetByRole(AriaRole.Heading).ClickAsync();
        await page.Keyboard.PressAsync("a");

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Completion {completion.Id} approved.");
        (await userClient.BalanceAsync()).ShouldBe(12);
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task The_queue_shows_lazy_thumbnails_linking_to_the_full_screenshot_and_a_text_placeholder_when_one_failed()
    {
        var (admin, user, userClient) = await ArrangeAsync(factory);
        using var _ = userClient;
        var good = await CompleteAsync(factory, userClient, points: 3, ThumbnailJobTests.Picture(900, 600));
        var bad = await CompleteAsync(factory, userClient, points: 4, ThumbnailJobTests.CorruptPng());
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(admin, "/admin/review");
        var page = browser.Page;

        var thumbnail = Item(page, user, good.AppName).GetByRole(AriaRole.Img, new() { Name = $"Screenshot from {user.UserName} for {good.AppName} (open full size)" });
        await Expect(thumbnail).ToHaveAttributeAsync("loading", "lazy");
        await Expect(thumbnail).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^/api/v1/files/[0-9]+/thumbnail$"));
        await Expect(thumbnail).ToHaveJSPropertyAsync("complete", true);
        (await thumbnail.EvaluateAsync<int>("img => img.naturalWidth")).ShouldBe(320);
        var fullSize = Item(page, user, good.AppName).GetByRole(AriaRole.Link, new() { Name = $"Screenshot from {user.UserName} for {good.AppName} (open full size)" });
        await Expect(fullSize).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^/api/v1/files/[0-9]+\\?inline=true$"));

        var placeholder = Item(page, user, bad.AppName).GetByRole(AriaRole.Link,
            new() { Name = $"Screenshot from {user.UserName} for {bad.AppName}: no thumbnail, the image could not be read (open full size)" });
        await Expect(placeholder).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^/api/v1/files/[0-9]+\\?inline=true$"));
        await Expect(Item(page, user, bad.AppName).GetByRole(AriaRole.Img)).ToHaveCountAsync(0);
        await browser.AssertAccessibleAsync();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task A_user_opening_the_review_queue_gets_403()
    {
        var user = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(user);

        var response = await browser.GotoAsync("/admin/review");

        response!.Status.ShouldBe(403);
        await Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not allowed");
        await browser.AssertNoProblemsAsync();
    }

    private static ILocator Item(IPage page, TestAccount user, string appName) =>
        page.GetByRole(AriaRole.Article, new() { Name = $"{user.UserName} · {appName}", Exact = true });

    /// <summary>An admin and a user; review is turned on for the host (every test of the class wants it).</summary>
    private static async Task<(TestAccount Admin, TestAccount User, HttpClient UserClient)> ArrangeAsync(AapFactory factory)
    {
        var admin = await factory.CreateAdminAsync();
        using (var adminClient = await factory.ClientForAsync(admin))
        {
            using var set = await adminClient.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = 1 }, Ct);
            set.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var user = await factory.RegisterAsync();
        return (admin, user, await factory.ClientForAsync(user));
    }

    /// <summary>Completes a new app through the API; the completion waits for review.</summary>
    private static async Task<(long Id, string AppName)> CompleteAsync(AapFactory factory, HttpClient user, int points, byte[]? image = null)
    {
        var app = await factory.AddAppAsync(points);
        using var response = await user.CompleteAsync(app, image ?? Images.Screenshot());
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        var data = body.GetProperty("data");
        data.GetProperty("status").GetString().ShouldBe("pending");
        // The queue shows the screenshot's thumbnail, which the file-thumbnails job makes just after the upload.
        await factory.ThumbnailSettledAsync(long.Parse(data.GetProperty("screenshot").GetString()!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture));
        return (data.GetProperty("id").GetInt64(), data.GetProperty("app_name").GetString()!);
    }

    /// <summary>The completion's status and reason as its owner reads them from <c>GET /api/v1/me/completions</c>.</summary>
    private static async Task<(string? Status, string? Reason)> StatusAsync(HttpClient user, long id)
    {
        using var response = await user.GetAsync("/api/v1/me/completions?size=100", Ct);
        var completion = (await response.JsonAsync()).GetProperty("data").EnumerateArray().Single(c => c.GetProperty("id").GetInt64() == id);
        var reason = completion.TryGetProperty("review_reason", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString() : null;
        return (completion.GetProperty("status").GetString(), reason);
    }
}
