using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages;

/// <summary>
/// The HTML error page of page requests (<c>/error/{status}</c>), reached through the status-code pages: a form posted
/// without its antiforgery token (400), a missing page (404), a role that does not allow it (403), a failure (500).
/// </summary>
/// <remarks>A refused form post is re-executed here as a POST: this page must not ask for the token itself.</remarks>
[IgnoreAntiforgeryToken]
internal sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";

    public string Message { get; private set; } = "";

    public void OnGet(int status) => Describe(status);

    public void OnPost(int status) => Describe(status);

    private void Describe(int status)
    {
        if (status is >= 400 and <= 599)
        {
            Response.StatusCode = status;
        }

        (Title, Message) = status switch
        {
            400 => ("The form could not be accepted", "The form was sent without its security token, or the token has expired. Go back, reload the page and send it again."),
            403 => ("Not allowed", "Your account's role does not allow this page."),
            404 => ("Page not found", "There is no page at this address."),
            405 => ("Not allowed", "This page does not accept that kind of request."),
            429 => ("Too many requests", "Wait a moment and try again."),
            _ => ("Something went wrong", "The server could not answer this request. Try again in a moment."),
        };
    }
}
