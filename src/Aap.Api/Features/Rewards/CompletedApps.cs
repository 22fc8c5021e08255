using Aap.Api.Features.Apps;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>Answers the catalog's question of which apps a user has completed, from the completions (any status).</summary>
internal sealed class CompletedApps(AppDbContext db) : ICompletedApps
{
    public IQueryable<long> CompletedAppIds(long userId) => db.Set<AppCompletion>().Where(c => c.UserId == userId).Select(c => c.AppId);

    public async Task<HashSet<long>> CompletedAmongAsync(long userId, IReadOnlyCollection<long> appIds, CancellationToken cancellationToken) =>
        [.. await CompletedAppIds(userId).Where(id => appIds.Contains(id)).ToListAsync(cancellationToken)];
}
