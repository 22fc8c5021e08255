using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc.RazorPages;
using UserAccount = Aap.Api.Features.Identity.Account;

namespace Aap.Api.Web.Pages;

/// <summary><c>/</c>: a signed-in user's home (greeting, balance, links), or a guest's welcome.</summary>
internal sealed class IndexModel(AccountService accounts, RewardsService rewards) : PageModel
{
    public UserAccount? Account { get; private set; }

    public long Balance { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (User.UserId() is { } userId && await accounts.FindAsync(userId, cancellationToken) is { } account)
        {
            Account = account;
            Balance = await rewards.BalanceAsync(userId, cancellationToken);
        }
    }
}
