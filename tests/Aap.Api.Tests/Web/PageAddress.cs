using Microsoft.Playwright;

namespace Aap.Api.Tests.Web;

/// <summary>
/// Waiting for a page's address to change, without Playwright's <c>WaitForURLAsync</c>. That method reads the address
/// and, when it does not match yet, subscribes to the next navigations; the navigation's event is handled on the
/// connection's own thread, so one that lands between the read and the subscription is missed and the wait runs into
/// its timeout with nothing wrong on the page. It did so in CI after "Next page", whose request (htmx) changes the
/// address in the same document a few milliseconds after the click returns: 30 s, and no navigation in the log.
/// Polling the address has no such gap. <c>WaitForLoadStateAsync</c> has the same one (it reads the states the document
/// reached, then subscribes to the next): after a sign-in's redirect it missed "domcontentloaded" and "load", saw only
/// "networkidle" and ran into its timeout in CI, twice. So the document's own <c>readyState</c> is polled too.
/// </summary>
internal static class PageAddress
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until the page's address satisfies <paramref name="matches"/>, then until its document reaches
    /// <paramref name="until"/> (<c>DOMContentLoaded</c> or <c>Load</c>; at once for an address changed within the same
    /// document). Fails with the address and the document's state last seen.
    /// </summary>
    public static async Task WaitForAddressAsync(this IPage page, Func<string, bool> matches, LoadState until = LoadState.Load, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!matches(page.Url))
        {
            if (waited.Elapsed > limit)
            {
                throw new TimeoutException($"The page's address did not change as expected within {limit.TotalSeconds:0} s; it is still {page.Url}.");
            }

            await Task.Delay(25);
        }

        // document.readyState: "interactive" once the document is parsed (DOMContentLoaded), "complete" once loaded.
        string[] reached = until switch
        {
            LoadState.DOMContentLoaded => ["interactive", "complete"],
            LoadState.Load => ["complete"],
            _ => throw new ArgumentOutOfRangeException(nameof(until), until, "Only DOMContentLoaded and Load are read from the document."),
        };
        string? state = null;
        while (true)
        {
            try
            {
                state = await page.EvaluateAsync<string>("document.readyState");
                if (reached.Contains(state))
                {
                    return;
                }
            }
            catch (PlaywrightException)
            {
                // The document was being replaced (its context destroyed): ask the next one.
            }

            if (waited.Elapsed > limit)
            {
                throw new TimeoutException($"The page at {page.Url} did not reach {until} within {limit.TotalSeconds:0} s; its document was {state ?? "not readable"}.");
            }

            await Task.Delay(25);
        }
    }
}
