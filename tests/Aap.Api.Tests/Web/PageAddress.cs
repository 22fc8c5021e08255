using Microsoft.Playwright;

namespace Aap.Api.Tests.Web;

/// <summary>
/// Waiting for a page's address to change, without Playwright's <c>WaitForURLAsync</c>. That method reads the address
/// and, when it does not match yet, subscribes to the next navigations; the navigation's event is handled on the
/// connection's own thread, so one that lands between the read and the subscription is missed and the wait runs into
/// its timeout with nothing wrong on the page. It did so in CI after "Next page", whose request (htmx) changes the
/// address in the same document a few milliseconds after the click returns: 30 s, and no navigation in the log.
/// Polling the address has no such gap.
/// </summary>
internal static class PageAddress
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until the page's address satisfies <paramref name="matches"/>, then until its document reaches
    /// <paramref name="until"/> (at once for an address changed within the same document). Fails with the address
    /// last seen.
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

        await page.WaitForLoadStateAsync(until);
    }
}
