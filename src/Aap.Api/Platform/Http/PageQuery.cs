using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Platform.Http;

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
