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

    [BindProperty(SupportsGet = true, Name = "page")]
    public int? PageNumber { get; set; }

    public PagedEnvelope<AdminUserResponse>? Result { get; private set; }

    public Failure? Failure { get; private set; }

    public ListPager Pager => new(Result!.Meta, "/admin/users",
        new Dictionary<string, string?> { ["q"] = Q, ["role"] = Role, ["active"] = Active }, Label: "Pages of users");

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        bool? active = Active switch { "true" => true, "false" => false, _ => null };
        var paging = new PageQuery { Page = Math.Clamp(PageNumber ?? 1, 1, PageQuery.MaxPage), Size = PageQuery.DefaultSize };
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
