using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Http;

/// <summary>Reads one page of an ordered query and describes its neighbours in a <c>Link</c> header.</summary>
internal static class Paging
{
    /// <summary>Counts and reads one page of an ordered query, and adds the RFC 8288 <c>Link</c> header.</summary>
    public static async Task<Ok<PagedEnvelope<T>>> ToPageAsync<T>(
        this IQueryable<T> query, PageQuery paging, HttpContext context, CancellationToken cancellationToken)
    {
        var page = await query.ToPageDataAsync(paging, cancellationToken);
        context.Response.Headers.Link = LinkHeader(context.Request, page.Meta);
        return TypedResults.Ok(page);
    }

    /// <summary>Counts and reads one page of an ordered query.</summary>
    public static async Task<PagedEnvelope<T>> ToPageDataAsync<T>(this IQueryable<T> query, PageQuery paging, CancellationToken cancellationToken)
    {
        var total = await query.LongCountAsync(cancellationToken);
        return await query.ToPageDataAsync(paging, total, cancellationToken);
    }

    /// <summary>Reads one page of an ordered query whose number of rows is known without counting them (a total kept by the database).</summary>
    public static async Task<PagedEnvelope<T>> ToPageDataAsync<T>(this IQueryable<T> query, PageQuery paging, long total, CancellationToken cancellationToken)
    {
        var items = total <= (long)(paging.PageNumber - 1) * paging.PageSize
            ? []
            : await query.Skip((paging.PageNumber - 1) * paging.PageSize).Take(paging.PageSize).ToListAsync(cancellationToken);
        return new PagedEnvelope<T>(items, PageMeta.Of(paging, total));
    }

    public static string LinkHeader(HttpRequest request, PageMeta meta)
    {
        var last = Math.Max(1, meta.TotalPages);
        var links = new List<string>(4) { Link(request, 1, meta.Size, "first") };
        if (meta.Page > 1)
        {
            links.Add(Link(request, Math.Min(meta.Page - 1, last), meta.Size, "prev"));
        }

        if (meta.Page < last)
        {
            links.Add(Link(request, meta.Page + 1, meta.Size, "next"));
        }

        links.Add(Link(request, last, meta.Size, "last"));
        return string.Join(", ", links);
    }

    private static string Link(HttpRequest request, int page, int size, string rel)
    {
        var query = request.Query
            .Where(q => q.Key is not ("page" or "size" or "per_page"))
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Append(new("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var url = $"{request.PathBase}{request.Path}{QueryString.Create(query)}";
        return $"<{url}>; rel=\"{rel}\"";
    }
}
