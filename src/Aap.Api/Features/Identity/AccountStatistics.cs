using Aap.Api.Platform;
using Aap.Api.Platform.Security;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

/// <summary>The accounts side of the admin dashboard, aggregated by the database.</summary>
[FeatureSurface]
internal sealed record AccountsOverview(int Total, int Active, int Admins, IReadOnlyDictionary<DateOnly, int> SignUpsPerDay);

internal sealed partial class AccountService
{
    /// <summary>How many accounts there are, how many are active and admins, and the sign-ups per day since <paramref name="since"/>.</summary>
    public async Task<AccountsOverview> OverviewAsync(DateTime since, CancellationToken cancellationToken)
    {
        var all = users.Users.AsNoTracking();
        var counts = await all.GroupBy(u => 1).Select(g => new
        {
            Total = g.Count(),
            Active = g.Count(u => u.IsActive),
            Admins = g.Count(u => u.IsActive && u.Role == Roles.Admin),
        }).FirstOrDefaultAsync(cancellationToken);
        var perDay = await all.Where(u => u.CreatedAt >= since).GroupBy(u => u.CreatedAt.Date)
            .Select(g => new { Day = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return new AccountsOverview(counts?.Total ?? 0, counts?.Active ?? 0, counts?.Admins ?? 0,
            perDay.ToDictionary(d => DateOnly.FromDateTime(d.Day), d => d.Count));
    }
}
