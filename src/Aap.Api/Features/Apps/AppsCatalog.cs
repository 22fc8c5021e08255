using System.Linq.Expressions;
using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The catalog as other features and the seed dialects read it: the active apps and what they are worth. Deleted
/// apps are never returned; inactive ones only by <see cref="AllAsync"/>, which admin statistics use.
/// </summary>
[FeatureSurface]
internal sealed class AppsCatalog(AppDbContext db)
{
    /// <summary>An app a user can complete now (active and not deleted), or null.</summary>
    public Task<AppSummary?> FindActiveAsync(long id, CancellationToken cancellationToken) =>
        db.Set<App>().AsNoTracking().Where(a => a.Id == id && a.IsActive)
            .Select(a => new AppSummary(a.Id, a.Name, a.Points, a.IsActive)).SingleOrDefaultAsync(cancellationToken)!;

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
            .ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);

    internal static readonly Expression<Func<App, AppResponse>> Projection = a => new AppResponse(
        a.Id, a.Name, a.Link, a.Points, a.Description, a.Category != null ? a.Category.Slug : null, a.CreatedAt, a.UpdatedAt);

    internal static readonly Func<App, AppResponse> ToResponse = Projection.Compile();
}
