using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Users;

/// <summary>
/// <c>/admin/users/{id}</c>: one account with its completions and ledger (each paged), and the admin's actions on it
/// through the same <see cref="AccountService"/> methods as <c>PATCH /api/v1/admin/users/{id}</c> and its unlock:
/// change the role, deactivate (after a confirmation step; it ends the account's sessions at once) or reactivate, and
/// clear a lock-out. Each action is a plain POST that redirects back with what was done.
/// </summary>
internal sealed class DetailsModel(AccountService accounts, RewardsService rewards) : PageModel
{
    public const int ListSize = 10;

    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        ["role"] = "The role was changed.",
        ["deactivated"] = "The account was deactivated; its sessions have ended.",
        ["reactivated"] = "The account was reactivated.",
        ["unlocked"] = "The lock-out was cleared; the account can sign in at once.",
    };

    [BindProperty(SupportsGet = true)]
    public long Id { get; set; }

    [BindProperty(SupportsGet = true, Name = "cpage")]
    public int? CompletionsPage { get; set; }

    [BindProperty(SupportsGet = true, Name = "lpage")]
    public int? LedgerPage { get; set; }

    /// <summary><c>deactivate</c>: show the confirmation step before deactivating.</summary>
    [BindProperty(SupportsGet = true, Name = "confirm")]
    public string? Confirm { get; set; }

    [BindProperty(SupportsGet = true, Name = "done")]
    public string? Done { get; set; }

    [BindProperty(Name = "role")]
    public string? NewRole { get; set; }

    public AdminUserDetails Details { get; private set; } = null!;

    public PagedEnvelope<CompletionResponse> Completions { get; private set; } = null!;

    public PagedEnvelope<LedgerEntryResponse> Ledger { get; private set; } = null!;

    public Failure? Failure { get; private set; }

    public string? Message => Done is not null && Messages.TryGetValue(Done, out var message) ? message : null;

    public bool IsSelf => User.UserId() == Id;

    public PageLinks CompletionsPager => new(Completions.Meta, $"/admin/users/{Id}", Query, "Pages of completions", Parameter: "cpage");

    public PageLinks LedgerPager => new(Ledger.Meta, $"/admin/users/{Id}", Query, "Pages of the ledger", Parameter: "lpage");

    private Dictionary<string, string?> Query => new()
    {
        ["cpage"] = CompletionsPage?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["lpage"] = LedgerPage?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => ShowAsync(cancellationToken);

    public Task<IActionResult> OnPostRoleAsync(CancellationToken cancellationToken) =>
        ActAsync(accounts.UpdateByAdminAsync(User.UserId(), Id, NewRole ?? "", null, cancellationToken), "role", cancellationToken);

    public Task<IActionResult> OnPostDeactivateAsync(CancellationToken cancellationToken) =>
        ActAsync(accounts.UpdateByAdminAsync(User.UserId(), Id, null, false, cancellationToken), "deactivated", cancellationToken);

    public Task<IActionResult> OnPostReactivateAsync(CancellationToken cancellationToken) =>
        ActAsync(accounts.UpdateByAdminAsync(User.UserId(), Id, null, true, cancellationToken), "reactivated", cancellationToken);

    public Task<IActionResult> OnPostUnlockAsync(CancellationToken cancellationToken) =>
        ActAsync(accounts.UnlockAsync(User.UserId(), Id, cancellationToken), "unlocked", cancellationToken);

    private async Task<IActionResult> ActAsync(Task<Result<AdminUserDetails>> action, string done, CancellationToken cancellationToken)
    {
        var result = await action;
        if (result.Succeeded)
        {
            return Redirect($"/admin/users/{Id}?done={done}");
        }

        if (result.Failure.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }

        Failure = result.Failure;
        Response.StatusCode = result.Failure.Status;
        Confirm = null;
        return await ShowAsync(cancellationToken);
    }

    private async Task<IActionResult> ShowAsync(CancellationToken cancellationToken)
    {
        var found = await accounts.FindForAdminAsync(Id, cancellationToken);
        if (!found.Succeeded)
        {
            return NotFound();
        }

        Details = found.Value;
        Completions = await rewards.CompletionsPageOfAsync(Id, Paging(CompletionsPage), cancellationToken);
        Ledger = await rewards.LedgerPageOfAsync(Id, Paging(LedgerPage), cancellationToken);
        return Page();
    }

    private static PageQuery Paging(int? page) => new() { Page = Math.Clamp(page ?? 1, 1, PageQuery.MaxPage), Size = ListSize };
}
