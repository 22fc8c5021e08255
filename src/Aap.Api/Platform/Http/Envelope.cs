using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Http;

/// <summary>Every successful product-API body: <c>{"data": ...}</c>.</summary>
internal sealed record Envelope<T>(T Data);

/// <summary>A page of a list: <c>{"data": [...], "meta": {"page", "size", "total", "total_pages"}}</c>.</summary>
internal sealed record PagedEnvelope<T>(IReadOnlyList<T> Data, PageMeta Meta);

internal sealed record PageMeta(int Page, int Size, long Total, int TotalPages);

/// <summary>
/// The paging query of every list: <c>?page=1&amp;size=20</c>, with <c>per_page</c> accepted as an alias of
/// <c>size</c>. Out-of-range values are a 400 validation problem; a page past the last one is an empty page.
/// </summary>
/// <remarks>Public because the validation source generator only looks at public types.</remarks>
public sealed record PageQuery
{
    public const int DefaultSize = 20;
    public const int MaxSize = 100;
    public const int MaxPage = 1_000_000;

    /// <summary>1-based page number.</summary>
    [FromQuery(Name = "page")]
    [Display(Name = "page")]
    [Range(1, MaxPage)]
    public int? Page { get; init; }

    /// <summary>Items per page, 1 to 100 (default 20).</summary>
    [FromQuery(Name = "size")]
    [Display(Name = "size")]
    [Range(1, MaxSize)]
    public int? Size { get; init; }

    /// <summary>Alias of <c>size</c>.</summary>
    [FromQuery(Name = "per_page")]
    [Display(Name = "per_page")]
    [Range(1, MaxSize)]
    public int? PerPage { get; init; }

    public int PageNumber => Page ?? 1;

    public int PageSize => Size ?? PerPage ?? DefaultSize;
}

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
        var items = total <= (long)(paging.PageNumber - 1) * paging.PageSize
            ? []
            : await query.Skip((paging.PageNumber - 1) * paging.PageSize).Take(paging.PageSize).ToListAsync(cancellationToken);
        return new PagedEnvelope<T>(items, new PageMeta(paging.PageNumber, paging.PageSize, total, (int)((total + paging.PageSize - 1) / paging.PageSize)));
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
