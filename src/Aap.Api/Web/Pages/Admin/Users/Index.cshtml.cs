using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Users;

/// <summary><c>/admin/users</c>: accounts searched by name or e-mail, filtered by role and state, paged (a GET form).</summary>
internal sealed class IndexModel(AccountService accounts) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "role")]
    public string? Role { get; set; }

    /// <summary><c>true</c>, <c>false</c> or empty (any).</summary>
    [BindProperty(SupportsGet = true, Name = "active")]
    public string? Active { get; set; }

    /// <summary>
    /// <c>?page=</c>, read by <see cref="PageLinks.PageNumberOf"/>: a property bound by the name <c>page</c> gets Razor
    /// Pages' route value of that name (the page's path) instead, and every link led back to page 1.
    /// </summary>
    public int PageNumber => PageLinks.PageNumberOf(Request);

    public PagedEnvelope<AdminUserResponse>? Result { get; private set; }

    public Failure? Failure { get; private set; }

    public PageLinks Pager => new(Result!.Meta, "/admin/users",
        new Dictionary<string, string?> { ["q"] = Q, ["role"] = Role, ["active"] = Active }, "Pages of users", "#results");

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        bool? active = Active switch { "true" => true, "false" => false, _ => null };
        var paging = new PageQuery { Page = PageNumber, Size = PageQuery.DefaultSize };
        var listed = await accounts.SearchAsync(Q, Role, active, paging, cancellationToken);
        if (listed.Succeeded)
        {
            Result = listed.Value;
        }
        else
        {
            Failure = listed.Failure;
            Response.StatusCode = listed.Failure.Status;
        }
    }
}
