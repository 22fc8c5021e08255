using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Aap.Api.Web;

/// <summary>
/// The previous/next links under a paged list (<c>Pages/Shared/_ListPager.cshtml</c>): the same address with the
/// list's query string kept and only <see cref="PageParameter"/> changed, so a page can be shared and reloaded.
/// </summary>
internal sealed record ListPager(PageMeta Meta, string Path, IReadOnlyDictionary<string, string?> Query, string PageParameter = "page", string Label = "Pages")
{
    public string UrlOf(int page)
    {
        var query = Query.Where(q => !string.IsNullOrEmpty(q.Value) && q.Key != PageParameter)
            .Append(new KeyValuePair<string, string?>(PageParameter, page.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return QueryHelpers.AddQueryString(Path, query);
    }

    public int LastPage => Math.Max(1, Meta.TotalPages);
}
