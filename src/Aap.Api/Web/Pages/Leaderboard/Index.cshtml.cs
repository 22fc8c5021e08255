using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Leaderboard;

/// <summary>
/// <c>/leaderboard</c>, open to anyone: users ranked by the points they earned from completions, paged. The links to
/// the next and previous pages carry a cursor (<see cref="LeaderboardCursors"/>), so that walking deep into the board
/// costs what its first page does; a page asked for by its number alone is read by counting.
/// </summary>
internal sealed class LeaderboardModel(RewardsService rewards, LeaderboardCursors cursors) : PageModel
{
    private const int Size = 25;

    public PagedEnvelope<LeaderboardEntry> Board { get; private set; } = new([], new PageMeta(1, Size, 0, 0));

    /// <summary>The cursor of the next page's link; null when there is none to write.</summary>
    public string? NextCursor { get; private set; }

    /// <summary>The cursor of the previous page's link; null when it goes by its number (the first page costs nothing to count to).</summary>
    public string? PreviousCursor { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var page = PageLinks.PageNumberOf(Request);
        Board = await rewards.LeaderboardPageAsync(new PageQuery { Page = page, Size = Size }, cursors.Read(Request, page), cancellationToken);
        if (Board.Data.Count > 0)
        {
            var (first, last) = (Board.Data[0], Board.Data[^1]);
            NextCursor = page < PageQuery.MaxPage ? cursors.Write(page + 1, new LeaderboardSeek(last.Points, last.UserId, Before: false)) : null;
            PreviousCursor = page > 2 ? cursors.Write(page - 1, new LeaderboardSeek(first.Points, first.UserId, Before: true)) : null;
        }
    }
}
