using System.Linq.Expressions;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Seeding;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Features.Apps;

internal static class AppsEndpoints
{
    public static IServiceCollection AddAppsFeature(this IServiceCollection services) =>
        services.AddScoped<ISeedContributor, AppsSeed>()
            .AddMemoryCache(cache => cache.SizeLimit = 10_000)
            .AddSingleton<AppsCatalogCache>();

    public static IEndpointRouteBuilder MapAppsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var apps = endpoints.MapGroup("/api/v1/apps")
            .WithTags("Apps")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesValidationProblem();

        apps.MapGet("/", ListApps)
            .WithName("ListApps")
            .WithSummary("The catalog of active apps, paged.")
            .WithDescription("Filters: `q` (name or description, case-insensitive), `category` (slug). " +
                             "`sort`: name, points or created_at, `-` prefix for descending (default -created_at).");
        apps.MapGet("/{id}", GetApp)
            .WithName("GetApp")
            .WithSummary("One active app. Carries an ETag; If-None-Match answers 304.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    internal static readonly IReadOnlyDictionary<string, Expression<Func<App, object>>> SortFields =
        new Dictionary<string, Expression<Func<App, object>>>(StringComparer.Ordinal)
        {
            ["name"] = a => a.NormalizedName,
            ["points"] = a => a.Points,
            ["created_at"] = a => a.CreatedAt,
        };

    internal static async Task<Results<Ok<PagedEnvelope<AppResponse>>, StatusCodeHttpResult, ProblemHttpResult>> ListApps(
        [AsParameters] PageQuery paging,
        string? q,
        string? category,
        string? sort,
        AppDbContext db,
        AppsCatalogCache cache,
        HttpContext context,
        CancellationToken cancellationToken)
    {
        sort = string.IsNullOrWhiteSpace(sort) ? "-created_at" : sort.Trim();
        var descending = sort.StartsWith('-');
        if (!SortFields.TryGetValue(descending ? sort[1..] : sort, out var key))
        {
            return Problems.Validation("sort", $"Sort by one of {string.Join(", ", SortFields.Keys)}, with '-' for descending.");
        }

        var query = db.Apps.AsNoTracking().Where(a => a.IsActive);
        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = App.Normalize(q);
            query = query.Where(a => a.NormalizedName.Contains(term) || (a.Description != null && a.Description.ToUpper().Contains(term)));
        }

        if (!string.IsNullOrWhiteSpace(category))
        {
            var slug = category.Trim().ToLowerInvariant();
            query = query.Where(a => a.Category != null && a.Category.Slug == slug);
        }

        var ordered = descending ? query.OrderByDescending(key).ThenByDescending(a => a.Id) : query.OrderBy(key).ThenBy(a => a.Id);
        var cacheKey = $"list:{q}:{category}:{sort}:{paging.PageNumber}:{paging.PageSize}";
        var page = await cache.GetOrCreateAsync(cacheKey, () => ordered.Select(Projection).ToPageDataAsync(paging, cancellationToken));
        context.Response.Headers.Link = Paging.LinkHeader(context.Request, page.Meta);
        return IsNotModified(context, new EntityTagHeaderValue(cache.ETag(cacheKey), isWeak: true))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(page);
    }

    internal static async Task<Results<Ok<Envelope<AppResponse>>, StatusCodeHttpResult, ProblemHttpResult>> GetApp(
        long id, AppDbContext db, AppsCatalogCache cache, HttpContext context, CancellationToken cancellationToken)
    {
        var found = await cache.GetOrCreateAsync($"detail:{id}", async () =>
        {
            var app = await db.Apps.AsNoTracking().Include(a => a.Category).FirstOrDefaultAsync(a => a.Id == id && a.IsActive, cancellationToken);
            return app is null ? null : new CachedApp(ToResponseCompiled(app), app.Version);
        });
        if (found is null)
        {
            return Problems.NotFound($"App {id}");
        }

        return IsNotModified(context, new EntityTagHeaderValue($"\"app-{id}-v{found.Version}\""))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(new Envelope<AppResponse>(found.App));
    }

    /// <summary>Adds the validator and the cache policy; true when the client already has this version (304).</summary>
    private static bool IsNotModified(HttpContext context, EntityTagHeaderValue etag)
    {
        context.Response.Headers.ETag = etag.ToString();
        context.Response.Headers.CacheControl = "private, max-age=60";
        return context.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Compare(etag, useStrongComparison: false) || tag.Equals(EntityTagHeaderValue.Any));
    }

    private sealed record CachedApp(AppResponse App, long Version);

    internal static readonly Expression<Func<App, AppResponse>> Projection = a => new AppResponse(
        a.Id, a.Name, a.Link, a.Points, a.Description, a.Category != null ? a.Category.Slug : null, a.CreatedAt, a.UpdatedAt);

    private static readonly Func<App, AppResponse> ToResponseCompiled = Projection.Compile();
}
