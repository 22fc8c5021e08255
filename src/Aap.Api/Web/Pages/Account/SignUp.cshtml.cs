using Aap.Api.Features.Identity;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Account;

/// <summary>
/// <c>/account/sign-up</c>: the same registration as <c>POST /api/v1/auth/register</c> (its rules, the weak-password
/// check), then signed in with the same cookies as a login, and home.
/// </summary>
internal sealed class SignUpModel(AccountService accounts, TokenService tokens, TimeProvider clock) : PageModel
{
    [BindProperty]
    public SignUpInput Input { get; set; } = new();

    /// <summary>The registration's field errors, by field (<c>username</c>, <c>email</c>, <c>password</c>).</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? LocalRedirect("/") : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var registered = await accounts.RegisterAsync(Input.Email, Input.Username, Input.Password, Roles.User, cancellationToken);
        if (!registered.Succeeded)
        {
            Response.StatusCode = registered.Failure.Status;
            Errors = registered.Failure.Errors;
            Alert = registered.Failure.Detail;
            return Page();
        }

        var pair = await tokens.IssueAsync(registered.Value, TokenDialects.V1, cancellationToken);
        AuthCookies.Write(HttpContext, pair, clock);
        return LocalRedirect("/");
    }

    internal sealed class SignUpInput
    {
        public string? Username { get; set; }

        public string? Email { get; set; }

        public string? Password { get; set; }
    }
}
