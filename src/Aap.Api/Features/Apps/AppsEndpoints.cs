using System.Linq.Expressions;
using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Features.Apps;

/// <summary>The public catalog: <c>GET /api/v1/apps</c> and <c>GET /api/v1/apps/{id}</c>, cached, with ETags.</summary>
internal static class AppsEndpoints
{
    public static IEndpointRouteBuilder MapAppsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var apps = endpoints.MapGroup("/api/v1/apps")
            .WithTags("Apps")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesValidationProblem();

        // Anonymous answers are the same for everyone: they are kept in the output cache (tag catalog).
        var output = endpoints.ServiceProvider.GetRequiredService<AppsCatalogCache>().OutputPolicy;
        apps.MapGet("/", ListApps)
            .WithMetadata(output)
            .WithName("ListApps")
            .WithSummary("The catalog of active apps, paged.")
            .WithDescription("Filters: `q` (name or description, case-insensitive), `category` (slug), `completed` (true or false, for the logged-in caller). " +
                             "`sort`: name, points or created_at, `-` prefix for descending, several keys separated by commas (default -created_at).");
        apps.MapGet("/{id}", GetApp)
            .WithMetadata(output)
            .WithName("GetApp")
            .WithSummary("One active app. Carries an ETag; If-None-Match answers 304.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    internal static readonly IReadOnlyDictionary<string, Expression<Func<App, object?>>> SortFields =
        new Dictionary<string, Expression<Func<App, object?>>>(StringComparer.Ordinal)
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
        bool? completed,
        ClaimsPrincipal caller,
        AppDbContext db,
        AppsCatalogCache cache,
        ICompletedApps completions,
        HttpContext context,
        CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        if (completed is not null && me is null)
        {
            return Problems.Create(401, ProblemCodes.Unauthorized, "The completed filter is about the caller: log in to use it.");
        }

        var order = SortQuery.Parse(sort, AppsCatalog.DefaultSort, SortFields);
        if (!order.Succeeded)
        {
            return order.Failure.ToProblem();
        }

        var query = AppsCatalog.Matching(db.Set<App>().AsNoTracking().Where(a => a.IsActive), q, category);
        if (completed is { } onlyCompleted)
        {
            var mine = completions.CompletedAppIds(me!.Value);
            query = onlyCompleted ? query.Where(a => mine.Contains(a.Id)) : query.Where(a => !mine.Contains(a.Id));
        }

        var ordered = query.OrderBy(order.Value, a => a.Id);
        // The shared catalog is cached; a page filtered by the caller's own completions is not.
        var cacheKey = AppsCatalog.ListCacheKey(q, category, sort, paging);
        var page = completed is null
            ? await cache.GetOrCreateAsync(cacheKey, () => ordered.Select(AppsCatalog.Projection).ToPageDataAsync(paging, cancellationToken))
            : await ordered.Select(AppsCatalog.Projection).ToPageDataAsync(paging, cancellationToken);
        var etag = cache.ETag(cacheKey);
        if (me is { } userId)
        {
            var done = await completions.CompletedAmongAsync(userId, [.. page.Data.Select(a => a.Id)], cancellationToken);
            page = page with { Data = [.. page.Data.Select(a => a with { Completed = done.Contains(a.Id) })] };
            etag = $"{etag[..^1]}-u{userId}-{completed}-{string.Join('.', done.Order())}\"";
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, page.Meta);
        return IsNotModified(context, new EntityTagHeaderValue(etag, isWeak: true))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(page);
    }

    internal static async Task<Results<Ok<Envelope<AppResponse>>, StatusCodeHttpResult, ProblemHttpResult>> GetApp(
        long id, ClaimsPrincipal caller, AppDbContext db, AppsCatalogCache cache, ICompletedApps completions, HttpContext context, CancellationToken cancellationToken)
    {
        var found = await cache.GetOrCreateAsync($"detail:{id}", async () =>
        {
            var app = await db.Set<App>().AsNoTracking().Include(a => a.Category).FirstOrDefaultAsync(a => a.Id == id && a.IsActive, cancellationToken);
            return app is null ? null : new CachedApp(AppsCatalog.ToResponse(app), app.Version);
        });
        if (found is null)
        {
            return Problems.NotFound($"App {id}");
        }

        var app = found.App;
        var etag = $"\"app-{id}-v{found.Version}\"";
        if (caller.UserId() is { } userId)
        {
            var done = (await completions.CompletedAmongAsync(userId, [id], cancellationToken)).Count == 1;
            app = app with { Completed = done };
            etag = $"\"app-{id}-v{found.Version}-u{userId}-{(done ? 1 : 0)}\"";
        }

        return IsNotModified(context, new EntityTagHeaderValue(etag))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(new Envelope<AppResponse>(app));
    }

    /// <summary>Adds the validator and the cache policy; true when the client already has this version (304).</summary>
    private static bool IsNotModified(HttpContext context, EntityTagHeaderValue etag)
    {
        context.Response.Headers.ETag = etag.ToString();
        context.Response.Headers.CacheControl = "private, max-age=60";
        return ETags.IfNoneMatchHits(context.Request.Headers.IfNoneMatch, etag.ToString());
    }

    private sealed record CachedApp(AppResponse App, long Version);
}
