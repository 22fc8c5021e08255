using Aap.Api.Features.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Account;

/// <summary>
/// <c>/account/sign-in</c>: the same credential check as <c>POST /api/v1/auth/login</c> (its throttle and lock-out),
/// then the same cookies. Afterwards the browser goes to <c>returnUrl</c> when it is a local address, else home.
/// </summary>
internal sealed class SignInModel(AccountService accounts, TokenService tokens, TimeProvider clock) : PageModel
{
    [BindProperty]
    public SignInInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Alert { get; private set; }

    /// <summary>The alert's id while there is one: both fields point to it (<c>aria-describedby</c>).</summary>
    public string? AlertId => Alert is null ? null : "sign-in-alert";

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? LocalRedirect(Destination) : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(Input.Login, Input.Password, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        if (!check.Succeeded)
        {
            check.Failure.WriteHeaders(Response);
            Response.StatusCode = check.Failure.Status;
            Alert = check.Failure.RetryAfter is { } wait
                ? $"Too many sign-in attempts. Wait {Wait(wait)} before trying again."
                : "The username, e-mail or password is wrong.";
            return Page();
        }

        var pair = await tokens.IssueAsync(check.Value, TokenDialects.V1, cancellationToken);
        AuthCookies.Write(HttpContext, pair, clock);
        return LocalRedirect(Destination);
    }

    private string Destination => Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/";

    /// <summary>"45 seconds", "5 minutes": how long the throttle says to wait, as a person reads it.</summary>
    internal static string Wait(TimeSpan wait)
    {
        var seconds = (int)Math.Ceiling(wait.TotalSeconds);
        if (seconds < 60)
        {
            return seconds == 1 ? "1 second" : $"{seconds} seconds";
        }

        var minutes = (int)Math.Ceiling(seconds / 60d);
        return minutes == 1 ? "1 minute" : $"{minutes} minutes";
    }

    internal sealed class SignInInput
    {
        public string? Login { get; set; }

        public string? Password { get; set; }
    }
}
