using Aap.Api.Features.Identity;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Profile;

/// <summary>
/// <c>/profile</c>: change the username or e-mail and the password (as <c>PATCH /api/v1/me</c> and
/// <c>POST /api/v1/me/password</c> do), and see the live sessions, ending one, all the others, or all.
/// A password change ends every session, as the API's does, and signs this browser in again with a new one.
/// </summary>
internal sealed class ProfileModel(AccountService accounts, TokenService tokens, TimeProvider clock) : PageModel
{
    [BindProperty]
    public ProfileInput Profile { get; set; } = new();

    [BindProperty]
    public PasswordInput Password { get; set; } = new();

    [TempData]
    public string? Done { get; set; }

    public IReadOnlyList<SessionSummary> Sessions { get; private set; } = [];

    public Guid? CurrentSession => Guid.TryParse(User.FindFirst(TokenService.SessionClaim)?.Value, out var sid) ? sid : null;

    public IReadOnlyDictionary<string, string[]>? ProfileErrors { get; private set; }

    public string? ProfileAlert { get; private set; }

    public IReadOnlyDictionary<string, string[]>? PasswordErrors { get; private set; }

    public string? PasswordAlert { get; private set; }

    private long Me => User.UserId()!.Value;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(Me, cancellationToken) is not { } account)
        {
            return SignedOut();
        }

        Profile = new ProfileInput { Username = account.UserName, Email = account.Email };
        Sessions = await tokens.SessionsAsync(Me, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostProfileAsync(CancellationToken cancellationToken)
    {
        var updated = await accounts.UpdateProfileAsync(Me, Profile.Username ?? "", Profile.Email ?? "", cancellationToken);
        if (updated.Succeeded)
        {
            Done = "Your profile was saved.";
            return RedirectToPage();
        }

        Response.StatusCode = updated.Failure.Status;
        ProfileErrors = updated.Failure.Errors;
        ProfileAlert = updated.Failure.Detail;
        return await ShowAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostPasswordAsync(CancellationToken cancellationToken)
    {
        var changed = await accounts.ChangePasswordAsync(Me, Password.Current, Password.New, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        if (!changed.Succeeded)
        {
            changed.Failure.WriteHeaders(Response);
            Response.StatusCode = changed.Failure.Status;
            PasswordErrors = changed.Failure.Errors;
            PasswordAlert = changed.Failure.RetryAfter is { } wait
                ? $"Too many attempts. Wait {Account.SignInModel.Wait(wait)} before trying again."
                : changed.Failure.Detail;
            await LoadProfileAsync(cancellationToken);
            return await ShowAsync(cancellationToken);
        }

        // As POST /api/v1/me/password: every session ends, and this browser gets a new pair.
        await tokens.EndAllSessionsAsync(changed.Value.Id, "password_changed", cancellationToken);
        var pair = await tokens.IssueAsync(changed.Value, TokenDialects.V1, cancellationToken);
        AuthCookies.Write(HttpContext, pair, clock);
        Done = "Your password was changed. Every other session was signed out.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostEndSessionAsync(Guid session, CancellationToken cancellationToken)
    {
        if (session == CurrentSession)
        {
            await tokens.EndOwnSessionAsync(Me, session, "logout", cancellationToken);
            return SignedOut();
        }

        Done = await tokens.EndOwnSessionAsync(Me, session, "logout", cancellationToken)
            ? "That session was signed out."
            : "That session had already ended.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostEndOthersAsync(CancellationToken cancellationToken)
    {
        var count = CurrentSession is { } keep ? await tokens.EndOtherSessionsAsync(Me, keep, "logout_others", cancellationToken) : 0;
        Done = count == 1 ? "1 other session was signed out." : $"{count} other sessions were signed out.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostEndAllAsync(CancellationToken cancellationToken)
    {
        await tokens.EndAllSessionsAsync(Me, "logout_all", cancellationToken);
        return SignedOut();
    }

    private RedirectResult SignedOut()
    {
        AuthCookies.Clear(HttpContext);
        return Redirect("/account/sign-in");
    }

    private async Task LoadProfileAsync(CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(Me, cancellationToken) is { } account)
        {
            Profile = new ProfileInput { Username = account.UserName, Email = account.Email };
        }
    }

    private async Task<IActionResult> ShowAsync(CancellationToken cancellationToken)
    {
        Sessions = await tokens.SessionsAsync(Me, cancellationToken);
        return Page();
    }

    internal sealed class ProfileInput
    {
        public string? Username { get; set; }

        public string? Email { get; set; }
    }

    internal sealed class PasswordInput
    {
        public string? Current { get; set; }

        public string? New { get; set; }
    }
}
