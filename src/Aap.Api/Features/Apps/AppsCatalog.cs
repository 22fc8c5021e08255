using System.Linq.Expressions;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The catalog as other features and the seed dialects read it: the active apps and what they are worth. Deleted
/// apps are never returned; inactive ones only by <see cref="AllAsync"/>, which admin statistics use.
/// </summary>
[FeatureSurface]
internal sealed class AppsCatalog(AppDbContext db, AppsCatalogCache cache)
{
    /// <summary>
    /// An app a user can complete now (active and not deleted), or null. An active one is kept in the catalog's cache
    /// (each completion asks for its app; any write to the catalog evicts it on every node), an unknown or inactive
    /// one read each time.
    /// </summary>
    public Task<AppSummary?> FindActiveAsync(long id, CancellationToken cancellationToken) =>
        cache.FindAsync($"summary:{id}", () => db.Set<App>().AsNoTracking().Where(a => a.Id == id && a.IsActive)
            .Select(a => new AppSummary(a.Id, a.Name, a.Points, a.IsActive)).SingleOrDefaultAsync(cancellationToken));

    /// <summary>Every app that is not deleted, active or not, by id.</summary>
    public async Task<IReadOnlyList<AppSummary>> AllAsync(CancellationToken cancellationToken) =>
        await db.Set<App>().AsNoTracking().OrderBy(a => a.Id)
            .Select(a => new AppSummary(a.Id, a.Name, a.Points, a.IsActive)).ToListAsync(cancellationToken);

    /// <summary>The active apps as the catalog shows them, by id.</summary>
    public async Task<List<AppResponse>> ListActiveAsync(CancellationToken cancellationToken) =>
        await db.Set<App>().AsNoTracking().Where(a => a.IsActive).OrderBy(a => a.Id).Select(Projection).ToListAsync(cancellationToken);

    /// <summary>One active app as the catalog shows it, or null.</summary>
    public Task<AppResponse?> GetActiveAsync(long id, CancellationToken cancellationToken) =>
        db.Set<App>().AsNoTracking().Where(a => a.Id == id && a.IsActive).Select(Projection).SingleOrDefaultAsync(cancellationToken)!;

    /// <summary>The names of these apps, deleted ones included (completions keep pointing at a deleted app).</summary>
    public async Task<IReadOnlyDictionary<long, string>> NamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        await db.Set<App>().AsNoTracking().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(a => ids.Contains(a.Id))
            .Select(a => new { a.Id, a.Name }).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);

    /// <summary>
    /// The output-cache policy of the catalog's answers (tag <see cref="AppsCatalogCache.Tag"/>, evicted on every node by
    /// any write to the catalog), for a consumer that serves the catalog on routes of its own.
    /// </summary>
    public static Platform.Caching.CachedOutputPolicy OutputPolicy(IServiceProvider services) =>
        services.GetRequiredService<AppsCatalogCache>().OutputPolicy;

    /// <summary>The catalog's order when none is asked for: newest first.</summary>
    public const string DefaultSort = "-created_at";

    /// <summary>
    /// One page of the active apps matching <paramref name="q"/> (name or description) and <paramref name="category"/>
    /// (slug), in the order of <paramref name="sort"/> (<see cref="AppsEndpoints.SortFields"/>, '-' for descending);
    /// the same query and cache as <c>GET /api/v1/apps</c>. An unknown sort field is a 400 naming the allowed ones.
    /// </summary>
    public async Task<Result<PagedEnvelope<AppResponse>>> SearchAsync(string? q, string? category, string? sort, PageQuery paging, CancellationToken cancellationToken)
    {
        var order = SortQuery.Parse(sort, DefaultSort, AppsEndpoints.SortFields);
        if (!order.Succeeded)
        {
            return order.Failure;
        }

        // The query is built only on a miss: building its ordering (generic methods made by reflection, expression
        // trees) costs more than answering a hit from the cache.
        return await cache.GetOrCreateAsync(ListCacheKey(q, category, sort, paging), () =>
            Matching(db.Set<App>().AsNoTracking().Where(a => a.IsActive), q, category).OrderBy(order.Value, a => a.Id)
                .Select(Projection).ToPageDataAsync(paging, cancellationToken));
    }

    /// <summary>The apps whose name or description contains <paramref name="q"/>, filed under the category <paramref name="category"/> (a slug); either may be empty.</summary>
    internal static IQueryable<App> Matching(IQueryable<App> apps, string? q, string? category)
    {
        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = App.Normalize(q);
            apps = apps.Where(a => a.NormalizedName.Contains(term) || (a.Description != null && a.Description.ToUpper().Contains(term)));
        }

        if (!string.IsNullOrWhiteSpace(category))
        {
            var slug = category.Trim().ToLowerInvariant();
            apps = apps.Where(a => a.Category != null && a.Category.Slug == slug);
        }

        return apps;
    }

    /// <summary>The cache key of one page of the shared catalog (never of a list filtered by the caller's completions).</summary>
    internal static string ListCacheKey(string? q, string? category, string? sort, PageQuery paging) =>
        $"list:{q}:{category}:{(string.IsNullOrWhiteSpace(sort) ? DefaultSort : sort.Trim())}:{paging.PageNumber}:{paging.PageSize}";

    internal static readonly Expression<Func<App, AppResponse>> Projection = a => new AppResponse(
        a.Id, a.Name, a.Link, a.Points, a.Description, a.Category != null ? a.Category.Slug : null, a.CreatedAt, a.UpdatedAt);

    internal static readonly Func<App, AppResponse> ToResponse = Projection.Compile();
}
