namespace Aap.Api.Platform.Http;

/// <summary>Every successful product-API body: <c>{"data": ...}</c>.</summary>
internal sealed record Envelope<T>(T Data);

/// <summary>A page of a list: <c>{"data": [...], "meta": {"page", "size", "total", "total_pages"}}</c>.</summary>
internal sealed record PagedEnvelope<T>(IReadOnlyList<T> Data, PageMeta Meta);

internal sealed record PageMeta(int Page, int Size, long Total, int TotalPages)
{
    /// <summary>The meta of the page <paramref name="paging"/> asks for, in a list of <paramref name="total"/> rows.</summary>
    public static PageMeta Of(PageQuery paging, long total) =>
        new(paging.PageNumber, paging.PageSize, total, (int)((total + paging.PageSize - 1) / paging.PageSize));
}

/// <summary>
/// A keyset page of a list (<see cref="Keyset"/>): <c>{"data": [...], "meta": {"size", "next_cursor"}}</c>, no total;
/// <c>next_cursor</c> is null on the last page.
/// </summary>
internal sealed record KeysetEnvelope<T>(IReadOnlyList<T> Data, KeysetMeta Meta);

internal sealed record KeysetMeta(int Size, string? NextCursor);
