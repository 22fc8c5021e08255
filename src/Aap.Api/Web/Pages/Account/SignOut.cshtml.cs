using Aap.Api.Features.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Account;

/// <summary>
/// <c>POST /account/sign-out</c>: ends this browser's session (its refresh family, or the access token's session when
/// no refresh cookie came), deletes the cookies and goes home. A GET (the navigation's "Sign out" link) shows the form;
/// with scripts on, the link posts that form at once (wwwroot/js/site.js), so that one click signs out.
/// </summary>
internal sealed class SignOutModel(TokenService tokens) : PageModel
{
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (AuthCookies.RefreshFrom(Request) is { } refresh)
        {
            await tokens.EndSessionAsync(refresh, cancellationToken);
        }
        else
        {
            await AuthResponses.EndCallerSessionAsync(User, tokens, cancellationToken);
        }

        AuthCookies.Clear(HttpContext);
        return LocalRedirect("/");
    }
}
