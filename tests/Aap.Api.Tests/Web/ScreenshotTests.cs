using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence.Seeding;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// The README's pictures of the user front and of the admin panel, taken from a realistic catalog (the demo seed's
/// apps, categories and users, a user with points and a pending completion) at 1280x800 in the light theme.
/// Every run checks that they are real PNGs of that size showing what they should; only with
/// <c>AAP_UPDATE_SCREENSHOTS=1</c> are they written to <c>docs/images/</c> (otherwise to a temporary folder), so a CI
/// run leaves the tree clean.
/// </summary>
public sealed class ScreenshotTests
{
    public const string UpdateVariable = "AAP_UPDATE_SCREENSHOTS";
    private const int Width = 1280;
    private const int Height = 800;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_user_front_and_the_admin_panel_are_captured_as_1280x800_pngs()
    {
        await using var factory = PagesFactory.ForPages(new SqliteFactory());
        factory.With("Database:SeedProfile", SeedProfiles.Demo);
        await factory.InitializeAsync();
        var (maria, admin) = await SeedAsync(factory);
        var folder = OutputFolder();

        await using (var browser = await BrowserSession.StartAsync(factory, Width, Height))
        {
            await browser.SignInAsync(maria, "/apps");
            var page = browser.Page;
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Apps");
            await Expect(page.GetByRole(AriaRole.List, new() { Name = "Apps" }).GetByRole(AriaRole.Heading)).ToHaveCountAsync(8);
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Duolingo" })).ToBeVisibleAsync();
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign out" })).ToBeVisibleAsync();
            await CaptureAsync(page, Path.Combine(folder, "user-front.png"));
            await browser.AssertNoProblemsAsync();
        }

        await using (var browser = await BrowserSession.StartAsync(factory, Width, Height))
        {
            await browser.SignInAsync(admin, "/admin");
            var page = browser.Page;
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Admin");
            var pending = await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.Status == CompletionStatus.Pending, Ct));
            pending.ShouldBeGreaterThan(1, "the demo users' and maria's");
            await Expect(page.GetByTestId("stat-pending")).ToHaveTextAsync(pending.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Expect(page.GetByTestId("oldest-pending")).ToContainTextAsync(" by ");
            await Expect(page.Locator("svg.chart").First).ToBeVisibleAsync();
            await CaptureAsync(page, Path.Combine(folder, "admin-panel.png"));
            await browser.AssertNoProblemsAsync();
        }
    }

    /// <summary>
    /// On top of the demo seed (apps in five categories, demo users with completions over the past weeks, some
    /// pending): maria, who completed three apps (credited at once) and, with review turned on, a fourth that waits
    /// for review; and an admin. Returns both.
    /// </summary>
    private static async Task<(TestAccount Maria, TestAccount Admin)> SeedAsync(AapFactory factory)
    {
        var apps = await factory.DbAsync(db => db.Set<App>().Where(a => a.IsActive).OrderBy(a => a.Id).Select(a => a.Id).ToListAsync(Ct));
        apps.Count.ShouldBe(8);
        var maria = await factory.RegisterAsync("maria", "maria@example.test");
        using (var client = await factory.ClientForAsync(maria))
        {
            foreach (var app in new[] { apps[0], apps[2], apps[4] })
            {
                using var done = await client.CompleteAsync(app, Images.Screenshot());
                done.StatusCode.ShouldBe(HttpStatusCode.Created);
            }
        }

        var created = await factory.ServiceAsync<AccountService, Result<Account>>(service =>
            service.RegisterAsync("admin@example.test", "admin", Accounts.Password, Roles.Admin, CancellationToken.None));
        created.Succeeded.ShouldBeTrue(created.Failure?.Detail);
        var admin = new TestAccount(created.Value.Id, created.Value.UserName, created.Value.Email, Accounts.Password);
        using (var adminClient = await factory.ClientForAsync(admin))
        using (var review = await adminClient.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = 1 }, Ct))
        {
            review.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var client = await factory.ClientForAsync(maria))
        using (var pending = await client.CompleteAsync(apps[7], Images.Screenshot()))
        {
            (await pending.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("pending");
        }

        return (maria, admin);
    }

    /// <summary>A screenshot of the viewport, checked to be a PNG of 1280x800, written to <paramref name="path"/>.</summary>
    private static async Task CaptureAsync(IPage page, string path)
    {
        var png = await page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png, Animations = ScreenshotAnimations.Disabled });

        png.Take(8).ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "PNG signature");
        System.Text.Encoding.ASCII.GetString(png, 12, 4).ShouldBe("IHDR");
        BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)).ShouldBe(Width);
        BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)).ShouldBe(Height);
        png.Length.ShouldBeGreaterThan(20_000, "a rendered page, not a blank image");
        await File.WriteAllBytesAsync(path, png, Ct);
    }

    /// <summary><c>docs/images</c> of the repository with <c>AAP_UPDATE_SCREENSHOTS=1</c>, else a temporary folder.</summary>
    private static string OutputFolder()
    {
        if (Environment.GetEnvironmentVariable(UpdateVariable) != "1")
        {
            return Directory.CreateTempSubdirectory("aap-screenshots-").FullName;
        }

        return Directory.CreateDirectory(Repository.PathOf("docs", "images")).FullName;
    }
}
