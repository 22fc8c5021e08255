using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages;

/// <summary>
/// The HTML error page of page requests (<c>/error/{status}</c>), reached through the status-code pages: a form posted
/// without its antiforgery token (400), a missing page (404), a role that does not allow it (403), a failure (500), a
/// dependency that is down (503).
/// </summary>
/// <remarks>A refused form post is re-executed here as a POST: this page must not ask for the token itself.</remarks>
[IgnoreAntiforgeryToken]
internal sealed class ErrorModel : PageModel
{
    public string Title => Text.Title;

    public string Message => Text.Message;

    /// <summary>The status of the address (<c>/error/405</c>), whichever method reached it.</summary>
    private int Status => int.TryParse(RouteData.Values["status"]?.ToString(), out var status) ? status : 500;

    // A method without a handler here (a DELETE re-executed after its 405) renders the page without calling one.
    private (string Title, string Message) Text => Status switch
    {
        400 => ("The form could not be accepted", "The form was sent without its security token, or the token has expired. Go back, reload the page and send it again."),
        403 => ("Not allowed", "Your account's role does not allow this page."),
        404 => ("Page not found", "There is no page at this address."),
        405 => ("Not allowed", "This page does not accept that kind of request."),
        429 => ("Too many requests", "Wait a moment and try again."),
        503 => ("Temporarily unavailable", "A service this site depends on is down for a moment, and nothing was changed. Try again in a few seconds."),
        507 => ("Storage is full", "The site has run out of storage space, and nothing was changed. Try again later."),
        _ => ("Something went wrong", "The server could not answer this request. Try again in a moment."),
    };

    public void OnGet() => KeepStatus();

    public void OnPost() => KeepStatus();

    private void KeepStatus()
    {
        if (Status is >= 400 and <= 599)
        {
            Response.StatusCode = Status;
        }
    }
}
