using Aap.Api.Platform;

namespace Aap.Api.Features.Apps;

/// <summary>
/// Which apps a user has completed: the catalog shows it and filters by it, but completions belong to the rewards
/// feature, which implements this. The catalog depends on the question, not on the feature that answers it.
/// </summary>
[FeatureSurface]
internal interface ICompletedApps
{
    /// <summary>The ids of the apps the user has completed (any status), as a query the catalog's own query can use.</summary>
    IQueryable<long> CompletedAppIds(long userId);

    /// <summary>Which of these apps the user has completed.</summary>
    Task<HashSet<long>> CompletedAmongAsync(long userId, IReadOnlyCollection<long> appIds, CancellationToken cancellationToken);
}
