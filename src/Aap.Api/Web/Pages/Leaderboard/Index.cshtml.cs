using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Leaderboard;

/// <summary><c>/leaderboard</c>, open to anyone: users ranked by the points they earned from completions, paged.</summary>
internal sealed class LeaderboardModel(RewardsService rewards) : PageModel
{
    private const int Size = 25;

    public PagedEnvelope<LeaderboardEntry> Board { get; private set; } = new([], new PageMeta(1, Size, 0, 0));

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Board = await rewards.LeaderboardPageAsync(new PageQuery { Page = PageLinks.PageNumberOf(Request), Size = Size }, cancellationToken);
}
