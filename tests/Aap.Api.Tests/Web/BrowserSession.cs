using Aap.Api.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// A real browser (Debian's Chromium, headless) on one factory's pages, for the tests of the web front. It records
/// every console error, page error and CSP violation (Chrome reports those on the console) while it is open: a test
/// ends with <see cref="AssertNoProblemsAsync"/> (disposing also fails when problems were left unasserted). It signs
/// up and in by driving the forms by their labels, and runs axe in the light and the dark theme.
/// </summary>
/// <example>
/// <code>
/// await using var browser = await BrowserSession.StartAsync(factory);
/// var account = await browser.SignUpAsync();
/// await browser.AssertAccessibleAsync();
/// await browser.AssertNoProblemsAsync();
/// </code>
/// </example>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private static readonly string[] LaunchArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    // One Chromium for the whole test run, one isolated context (cookies, storage, cache) per session: launching a
    // browser per test cost seconds of CPU each on a two-core machine and starved the server under test.
    private static readonly SemaphoreSlim BrowserGate = new(1, 1);
    private static IPlaywright? s_playwright;
    private static IBrowser? s_browser;

    private readonly List<string> _problems = [];
    private readonly HashSet<string> _documents = new(StringComparer.Ordinal);
    private bool _asserted;

    private BrowserSession(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Response += (_, response) =>
        {
            // A page's own status, and a refusal (4xx) that a page's script asked for and handles (the upload's
            // XHR, an htmx request): the test asserts what the page shows of it.
            if (response.Request.ResourceType == "document" || (response.Request.ResourceType is "xhr" or "fetch" && response.Status is >= 400 and < 500))
            {
                lock (_documents)
                {
                    _documents.Add(response.Url);
                }
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !IsOwnStatusOfADocument(message))
            {
                Record($"console error at {message.Location}: {message.Text}");
            }
        };
        page.PageError += (_, error) => Record($"page error: {error}");
    }

    public IPage Page { get; }

    public IBrowserContext Context { get; }

    /// <summary>What went wrong in the browser so far: console errors (CSP violations among them) and uncaught errors.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>Opens a browser on <paramref name="factory"/>'s address, 1280 px wide unless told (375 for a phone).</summary>
    public static Task<BrowserSession> StartAsync(AapFactory factory, int width = 1280, int height = 900) =>
        StartAsync(factory.ServerAddress, width, height);

    /// <summary>Opens a browser on <paramref name="baseAddress"/> (a proxy in front of several nodes, say).</summary>
    public static async Task<BrowserSession> StartAsync(Uri baseAddress, int width = 1280, int height = 900)
    {
        File.Exists(Chromium).ShouldBeTrue($"The browser tests need Chromium at {Chromium}: scripts/test.sh installs Debian's chromium package (apt-get install chromium).");
        var browser = await SharedBrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        // A navigation waits for the load event of a whole page with its styles and scripts: give it more room.
        page.SetDefaultNavigationTimeout(30_000);
        // Expectations wait as long as actions do: on a loaded two-core machine a list's round trip can pass 5 s.
        Assertions.SetDefaultExpectTimeout(15_000);
        return new BrowserSession(context, page);
    }

    /// <summary>The run's Chromium, launched on first use and again if it went away (a crash, a killed process).</summary>
    private static async Task<IBrowser> SharedBrowserAsync()
    {
        await BrowserGate.WaitAsync();
        try
        {
            if (s_browser is { IsConnected: true })
            {
                return s_browser;
            }

            s_playwright ??= await Playwright.CreateAsync();
            s_browser = await s_playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = LaunchArgs });
            return s_browser;
        }
        finally
        {
            BrowserGate.Release();
        }
    }

    public Task<IResponse?> GotoAsync(string path) => Page.GotoAsync(path);

    /// <summary>Signs up through <c>/account/sign-up</c> and checks that the home page greets the new user.</summary>
    public async Task<TestAccount> SignUpAsync(string? userName = null, string password = Accounts.Password)
    {
        userName ??= $"web_{Guid.NewGuid():N}"[..16];
        var email = $"{userName}@example.test";
        await Page.GotoAsync("/account/sign-up");
        await Page.GetByLabel("Username").FillAsync(userName);
        await Page.GetByLabel("E-mail").FillAsync(email);
        await Page.GetByLabel("Password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Hello, {userName}");
        return new TestAccount(0, userName, email, password);
    }

    /// <summary>Signs in through <c>/account/sign-in</c> (with <paramref name="returnUrl"/> when given) and waits to leave the form.</summary>
    public async Task SignInAsync(TestAccount account, string? returnUrl = null)
    {
        if (!Page.Url.Contains("/account/sign-in", StringComparison.Ordinal) || returnUrl is not null)
        {
            await Page.GotoAsync(returnUrl is null ? "/account/sign-in" : $"/account/sign-in?returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        await FillSignInAsync(account.UserName ?? account.Email!, account.Password);
        // The document, not every image and style sheet: what a test does next waits for what it needs.
        await Page.WaitForAddressAsync(url => !url.Contains("/account/sign-in", StringComparison.Ordinal), LoadState.DOMContentLoaded);
    }

    /// <summary>Fills and sends the sign-in form as it is, without waiting for where it leads (a refused sign-in stays).</summary>
    public async Task FillSignInAsync(string login, string password)
    {
        await Page.GetByLabel("Username or e-mail").FillAsync(login);
        await Page.GetByLabel("Password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).Last.ClickAsync();
    }

    /// <summary>
    /// Runs axe on the current page in the light theme and in the dark one (<c>prefers-color-scheme</c> emulated),
    /// and fails on any serious or critical violation, naming the rule, the theme and the elements.
    /// </summary>
    public async Task AssertAccessibleAsync()
    {
        var violations = new List<string>();
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = scheme });
            var result = await Page.RunAxe();
            violations.AddRange(result.Violations
                .Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"[{scheme}] {v.Id} ({v.Impact}): {v.Help} -- {string.Join(" | ", v.Nodes.Select(n => n.Html))}"));
        }

        await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });
        violations.ShouldBeEmpty($"axe found serious or critical violations on {Page.Url}:{Environment.NewLine}{string.Join(Environment.NewLine, violations)}");
    }

    /// <summary>Fails when the browser reported a console error, a page error or a CSP violation.</summary>
    public Task AssertNoProblemsAsync()
    {
        _asserted = true;
        Problems.ShouldBeEmpty($"the browser reported problems:{Environment.NewLine}{string.Join(Environment.NewLine, Problems)}");
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        var unasserted = !_asserted ? Problems : [];
        await Context.CloseAsync();
        if (unasserted.Count > 0)
        {
            throw new ShouldAssertException($"the browser reported problems that the test did not check:{Environment.NewLine}{string.Join(Environment.NewLine, unasserted)}");
        }
    }

    private void Record(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }

    /// <summary>
    /// Fails unless every problem the browser reported matches <paramref name="expected"/> and at least one did: for
    /// a test that provokes an error on purpose (an htmx request refused, which htmx logs).
    /// </summary>
    public Task AssertOnlyExpectedProblemsAsync(Func<string, bool> expected)
    {
        _asserted = true;
        var problems = Problems;
        problems.ShouldNotBeEmpty("the browser reported no problem, though the test provoked one");
        problems.Where(p => !expected(p)).ShouldBeEmpty($"the browser reported unexpected problems:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Chrome logs "Failed to load resource" when a page itself answers 4xx (the 403 page, a refused sign-in), or a
    /// script's request is refused (the upload's 415): that status is what the test asserts, not a problem. The same
    /// message for a script, style or image, or for a 5xx, still counts.
    /// </summary>
    private bool IsOwnStatusOfADocument(IConsoleMessage message)
    {
        if (!message.Text.StartsWith("Failed to load resource: the server responded with a status of", StringComparison.Ordinal))
        {
            return false;
        }

        lock (_documents)
        {
            // Location is "URL:line:column".
            return _documents.Any(url => message.Location.StartsWith(url + ":", StringComparison.Ordinal));
        }
    }
}
