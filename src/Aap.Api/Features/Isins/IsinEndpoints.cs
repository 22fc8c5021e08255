using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Isins;

/// <summary>
/// <c>/api/v1/isins</c>: the ISIN list the daily download keeps, for any signed-in caller (the list is public data,
/// but a search over millions of rows is not offered to anonymous callers); the last download's outcome for admins.
/// </summary>
internal static class IsinEndpoints
{
    public const string Tag = "ISINs";

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var isins = endpoints.MapGroup("/api/v1/isins").WithTags(Tag).RequireAuthorization().ProducesProblem(400).ProducesProblem(401);
        isins.MapGet("", List).WithName("ListIsins").PagesByKeyset<IsinResponse>()
            .WithSummary("The listed ISINs in ISIN order, paged by number or by cursor. Filters: q (the start of an ISIN, or a whole LEI), country (two letters), include_removed.");
        isins.MapGet("/{isin}", Get).WithName("GetIsin").ProducesProblem(404)
            .WithSummary("One ISIN with its LEI and when it was first and last listed (and removed). A malformed ISIN is a 400 that says why; an unknown one a 404.");

        endpoints.MapGet("/api/v1/admin/isins/download", Download).WithName("GetIsinDownload").WithTags("Admin: ISINs")
            .RequireAuthorization(Policies.Admin).ProducesProblem(401).ProducesProblem(403)
            .WithSummary("What the last ISIN download did: outcome, rows, invalid rows, error, the stored ETag and Last-Modified, and the list's size.");
        return endpoints;
    }

    internal static async Task<Results<Ok<KeysetEnvelope<IsinResponse>>, Ok<PagedEnvelope<IsinResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery paging, [AsParameters] IsinListQuery query, IsinService isins, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await isins.ListAsync(query.Filter, keyset, cancellationToken);
            return slice.Succeeded ? Keyset.Ok(context, slice.Value) : slice.Failure.ToProblem();
        }

        var page = await isins.ListAsync(query.Filter, paging, cancellationToken);
        if (!page.Succeeded)
        {
            return page.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, page.Value.Meta);
        return TypedResults.Ok(page.Value);
    }

    internal static async Task<Results<Ok<Envelope<IsinResponse>>, ProblemHttpResult>> Get(string isin, IsinService isins, CancellationToken cancellationToken)
    {
        var found = await isins.FindAsync(isin, cancellationToken);
        return found.Succeeded ? TypedResults.Ok(new Envelope<IsinResponse>(found.Value)) : found.Failure.ToProblem();
    }

    internal static async Task<Ok<Envelope<IsinDownloadResponse>>> Download(IsinService isins, CancellationToken cancellationToken) =>
        TypedResults.Ok(new Envelope<IsinDownloadResponse>(await isins.DownloadStateAsync(cancellationToken)));
}
