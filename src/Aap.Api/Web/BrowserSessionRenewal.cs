using Aap.Api.Features.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Web;

/// <summary>
/// Keeps a browser signed in on the pages although access tokens live seconds: on a page request whose access cookie
/// is missing or expired and that carries a refresh cookie, it renews the session through
/// <see cref="TokenService.RenewBrowserSessionAsync"/>, writes the new cookies and puts the new access token in the
/// request, so that authentication (which runs next) sees a signed-in user. Parallel requests that present the same
/// refresh cookie are covered by the reuse interval there. A refresh cookie that no longer works is deleted and the
/// request goes on as a guest's. API routes and static files are never renewed here: API clients refresh themselves.
/// </summary>
internal sealed class BrowserSessionRenewal(RequestDelegate next, TimeProvider clock)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (PageRequests.IsPage(context) && AuthCookies.RefreshFrom(context.Request) is { } refresh && NeedsRenewal(context.Request))
        {
            await RenewAsync(context, refresh);
        }

        await next(context);
    }

    private bool NeedsRenewal(HttpRequest request)
    {
        if (request.Headers.Authorization.Count > 0)
        {
            return false;
        }

        if (!request.Cookies.TryGetValue(AuthCookies.Access, out var access) || access.Length == 0)
        {
            return true;
        }

        // Only the expiry is read here; the signature is checked by authentication, as for every request.
        return ExpiryOf(access) is not { } expires || expires <= clock.GetUtcNow().UtcDateTime;
    }

    /// <summary>
    /// The expiry a token's text states, or null when it is not a token. A browser sends the same access cookie on
    /// every request until it is renewed, so the expiry is remembered by the cookie's exact text (parsing the token
    /// was a twentieth of a page's cost); at most <see cref="RememberedExpiries"/> are, then the memo starts again.
    /// </summary>
    private DateTime? ExpiryOf(string access)
    {
        if (_expiries.TryGetValue(access, out var known))
        {
            return known;
        }

        DateTime? expires;
        try
        {
            expires = new JsonWebToken(access).ValidTo;
        }
        catch (ArgumentException)
        {
            expires = null;
        }

        if (_expiries.Count >= RememberedExpiries)
        {
            _expiries.Clear();
        }

        _expiries[access] = expires;
        return expires;
    }

    private const int RememberedExpiries = 10_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTime?> _expiries = new(StringComparer.Ordinal);

    private async Task RenewAsync(HttpContext context, string refresh)
    {
        var tokens = context.RequestServices.GetRequiredService<TokenService>();
        var renewed = await tokens.RenewBrowserSessionAsync(refresh, context.RequestAborted);
        if (!renewed.Succeeded)
        {
            AuthCookies.Clear(context);
            SetRequestCookie(context.Request, AuthCookies.Access, null);
            return;
        }

        if (renewed.Value.Pair is { } pair)
        {
            AuthCookies.Write(context, pair, clock);
        }
        else
        {
            AuthCookies.WriteAccess(context, renewed.Value.AccessToken, renewed.Value.ExpiresIn);
        }

        SetRequestCookie(context.Request, AuthCookies.Access, renewed.Value.AccessToken);
    }

    /// <summary>Replaces (or removes) one cookie of the request; the request's cookie collection is re-read from the header.</summary>
    private static void SetRequestCookie(HttpRequest request, string name, string? value)
    {
        var cookies = request.Cookies.Where(c => c.Key != name).Select(c => new CookieHeaderValue(c.Key, c.Value)).ToList();
        if (value is not null)
        {
            cookies.Add(new CookieHeaderValue(name, value));
        }

        request.Headers.Cookie = string.Join("; ", cookies.Select(c => c.ToString()));
    }
}
