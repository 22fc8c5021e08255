using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

/// <summary>The accounts side of the admin dashboard, aggregated by the database.</summary>
[FeatureSurface]
internal sealed record AccountsOverview(int Total, int Active, int Admins, IReadOnlyDictionary<DateOnly, int> SignUpsPerDay);

internal sealed partial class AccountService
{
    /// <summary>How many accounts there are, how many are active and admins, and the sign-ups per day from <paramref name="since"/> to today.</summary>
    public async Task<AccountsOverview> OverviewAsync(DateTime since, CancellationToken cancellationToken)
    {
        var all = users.Users.AsNoTracking();
        // Three scalar counts in one query: the active ones and the admins are ranges of ix_users_is_active_role (0014)
        // and the total is a scan of the smallest index, where a GROUP BY of a constant read every (is_active, role)
        // and grouped it in a temporary B-tree (on SQLite 25 ms instead of 5 for 50,000 accounts).
        var counts = await all.Take(1).Select(_ => new
        {
            Total = all.Count(),
            Active = all.Count(u => u.IsActive),
            Admins = all.Count(u => u.IsActive && u.Role == Roles.Admin),
        }).FirstOrDefaultAsync(cancellationToken);
        // One range count per day on ix_users_created_at_id (0014, 0021), rather than the date of every account since.
        var perDay = await DailyCounts.CountAsync(all, u => u.CreatedAt, since, clock.GetUtcNow().UtcDateTime, cancellationToken);
        return new AccountsOverview(counts?.Total ?? 0, counts?.Active ?? 0, counts?.Admins ?? 0, perDay);
    }
}
