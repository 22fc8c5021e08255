using Aap.Api.Features.Todos;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary><c>/todos</c>: add, filter, edit, complete, delete and restore, in a real browser, checked in the database.</summary>
public sealed class TodoPagesTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_user_adds_filters_edits_completes_deletes_and_restores_to_dos()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account, "/todos");
        var page = browser.Page;
        await Expect(page.GetByText("No to-dos match.")).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();

        // A title is required: the error is next to the field.
        await page.GetByText("New to-do").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to-do" }).ClickAsync();
        await Expect(page.GetByLabel("Title")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByText("A title is required.")).ToBeVisibleAsync();
        await browser.AssertAccessibleAsync();

        await AddAsync(page, "Buy milk", "high", "2026-12-24");
        await AddAsync(page, "Water plants", "low", null);
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Added \u201cWater plants\u201d.");
        var rows = page.GetByRole(AriaRole.Row);
        await Expect(rows).ToHaveCountAsync(3);

        // Filters are a GET form: the address carries them.
        await page.GetByLabel("Priority filter").SelectOptionAsync("high");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Buy milk"]);
        await page.WaitForAddressAsync(url => url.Contains("priority=high", StringComparison.Ordinal));
        await page.GetByLabel("Priority filter").SelectOptionAsync("");
        await page.GetByLabel("Search").FillAsync("plants");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Water plants"]);
        await browser.GotoAsync("/todos?q=plants");
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Water plants"]);

        // Edit every field.
        await page.GetByRole(AriaRole.Link, new() { Name = "Water plants" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Edit to-do");
        await browser.AssertAccessibleAsync();
        await page.GetByLabel("Title").FillAsync("Water the plants");
        await page.GetByLabel("Description").FillAsync("The ficus too");
        await page.GetByLabel("Status").SelectOptionAsync("in_progress");
        await page.GetByLabel("Priority").SelectOptionAsync("normal");
        await page.GetByLabel("Due date").FillAsync("2027-01-02");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved \u201cWater the plants\u201d.");
        var edited = await TaskAsync(account.Id, "Water the plants");
        (edited.Description, edited.Status, edited.Priority, edited.DueDate).ShouldBe(("The ficus too", TodoStatus.InProgress, TodoPriority.Normal, new DateOnly(2027, 1, 2)));

        // Complete with one button.
        await page.GetByRole(AriaRole.Button, new() { Name = "Complete Buy milk" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Completed \u201cBuy milk\u201d.");
        var milk = await TaskAsync(account.Id, "Buy milk");
        milk.Status.ShouldBe(TodoStatus.Completed);
        milk.CompletedAt.ShouldNotBeNull();
        await page.GetByLabel("Status").SelectOptionAsync("completed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Buy milk"]);

        // Delete, then restore from the Deleted view.
        await browser.GotoAsync("/todos");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete Water the plants" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Deleted \u201cWater the plants\u201d.");
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Buy milk"]);
        (await TaskAsync(account.Id, "Water the plants")).DeletedAt.ShouldNotBeNull();
        await page.GetByRole(AriaRole.Link, new() { Name = "Deleted" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Deleted to-dos");
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Water the plants"]);
        await browser.AssertAccessibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore Water the plants" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Restored \u201cWater the plants\u201d.");
        await Expect(page.GetByText("No deleted to-dos.")).ToBeVisibleAsync();
        (await TaskAsync(account.Id, "Water the plants")).DeletedAt.ShouldBeNull();
        await browser.AssertNoProblemsAsync();
    }

    [Fact]
    public async Task An_htmx_post_carries_the_antiforgery_header_and_one_without_it_gets_the_400_page_and_saves_nothing()
    {
        var account = await factory.RegisterAsync();
        await using var browser = await BrowserSession.StartAsync(factory);
        await browser.SignInAsync(account, "/todos");
        var page = browser.Page;
        await Expect(page.GetByText("No to-dos match.")).ToBeVisibleAsync();

        // An htmx POST as a page's hx-post would send it (site.js adds the header from the layout's meta element).
        const string post = """
            title => { htmx.ajax("POST", "/todos?handler=Add", { values: { "Input.Title": title, "Input.Priority": "normal" }, target: "#todo-list", select: "#todo-list", swap: "outerHTML" }); }
            """;
        var accepted = await page.RunAndWaitForResponseAsync(() => page.EvaluateAsync(post, "Sent by htmx"), r => r.Request.Method == "POST");

        (await accepted.Request.HeaderValueAsync("hx-request")).ShouldBe("true");
        (await accepted.Request.HeaderValueAsync("x-csrf-token")).ShouldNotBeNullOrWhiteSpace();
        accepted.Status.ShouldBe(302);
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Sent by htmx"]);
        (await TaskAsync(account.Id, "Sent by htmx")).DeletedAt.ShouldBeNull();

        // The same request with the header taken off on the way.
        await page.RouteAsync("**/todos?handler=Add", route => route.ContinueAsync(new()
        {
            Headers = route.Request.Headers.Where(h => !h.Key.Equals("x-csrf-token", StringComparison.OrdinalIgnoreCase)).ToDictionary(h => h.Key, h => h.Value),
        }));
        var refused = await page.RunAndWaitForResponseAsync(() => page.EvaluateAsync(post, "Sent without the token"), r => r.Request.Method == "POST");

        refused.Status.ShouldBe(400);
        (await refused.TextAsync()).ShouldContain("<h1>The form could not be accepted</h1>");
        (await factory.DbAsync(db => db.Set<TodoTask>().IgnoreQueryFilters().CountAsync(t => t.OwnerId == account.Id, Ct))).ShouldBe(1);
        await Expect(page.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync(["Sent by htmx"]);
        // htmx logs the refused request on the console: that, and only that, is expected.
        await browser.AssertOnlyExpectedProblemsAsync(problem => problem.Contains("Response Status Error Code 400 from /todos?handler=Add", StringComparison.Ordinal));
    }

    private static async Task AddAsync(IPage page, string title, string priority, string? due)
    {
        if (!await page.GetByLabel("Title").IsVisibleAsync())
        {
            await page.GetByText("New to-do").ClickAsync();
        }

        await page.GetByLabel("Title").FillAsync(title);
        await page.GetByLabel("Priority", new() { Exact = true }).SelectOptionAsync(priority);
        if (due is not null)
        {
            await page.GetByLabel("Due date").FillAsync(due);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Add to-do" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Added \u201c{title}\u201d.");
    }

    private Task<TodoTask> TaskAsync(long ownerId, string title) =>
        factory.DbAsync(db => db.Set<TodoTask>().IgnoreQueryFilters().AsNoTracking().SingleAsync(t => t.OwnerId == ownerId && t.Title == title, Ct));
}
