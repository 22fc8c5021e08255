using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Isins;

/// <summary>Reads the ISIN list the daily download keeps: one ISIN, or a page of them by prefix, LEI and country.</summary>
[FeatureSurface]
internal sealed class IsinService(AppDbContext db, IOptions<IsinOptions> options, IsinCounts counts)
{
    /// <summary>The ISIN, also when it has left the list (then with <c>removed_at</c>); 400 when it is not an ISIN, 404 when it is unknown.</summary>
    public async Task<Result<IsinResponse>> FindAsync(string value, CancellationToken cancellationToken)
    {
        var code = value.Trim().ToUpperInvariant();
        if (IsinCode.Check(code) is { } why)
        {
            return Failure.Of(StatusCodes.Status400BadRequest, IsinProblemCodes.InvalidIsin, why, "isin");
        }

        var isin = await db.Set<Isin>().AsNoTracking().SingleOrDefaultAsync(i => i.Code == code, cancellationToken);
        return isin is null ? Failure.NotFound($"ISIN {code}") : IsinResponse.From(isin);
    }

    /// <summary>A page of listed ISINs in ISIN order: <c>q</c> is the start of an ISIN (1 to 12 characters) or a whole LEI (20).</summary>
    public async Task<Result<PagedEnvelope<IsinResponse>>> ListAsync(IsinFilter filter, PageQuery paging, CancellationToken cancellationToken)
    {
        if (Filtered(filter, out var listed) is { } failure)
        {
            return failure;
        }

        // The list changes only at a load: its totals are kept per filter until the next one (IsinCounts).
        var source = options.Value.SourceUrl;
        var loadedAt = await db.Set<IsinDownload>().Where(d => d.SourceUrl == source).Select(d => d.LoadedAt).FirstOrDefaultAsync(cancellationToken);
        var total = await counts.GetAsync(filter, loadedAt, listed.LongCountAsync, cancellationToken);
        return await listed.OrderBy(i => i.Code).Select(i => IsinResponse.From(i)).ToPageDataAsync(paging, total, cancellationToken);
    }

    /// <summary>The same list by keyset: the page after the cursor's ISIN, a range on the key however deep, with no total.</summary>
    public async Task<Result<KeysetEnvelope<IsinResponse>>> ListAsync(IsinFilter filter, KeysetRequest keyset, CancellationToken cancellationToken)
    {
        return Filtered(filter, out var listed) is { } failure
            ? failure
            : await listed.ToAscendingKeysetPageAsync(keyset, i => i.Code, i => IsinResponse.From(i), i => i.Isin, cancellationToken);
    }

    /// <summary>The ISINs the filter keeps in <paramref name="query"/>, or the errors of every bad filter.</summary>
    private Failure? Filtered(IsinFilter filter, out IQueryable<Isin> query)
    {
        query = db.Set<Isin>().AsNoTracking();
        var errors = new FieldErrors();
        var q = filter.Q?.Trim().ToUpperInvariant();
        if (q is { Length: > 0 } && (!(q.Length <= IsinCode.Length || q.Length == 20) || !q.All(char.IsAsciiLetterOrDigit)))
        {
            errors.Add("q", "q is the start of an ISIN (1 to 12 letters or digits) or a whole LEI (20 letters or digits).");
        }

        var country = filter.Country?.Trim().ToUpperInvariant();
        if (country is { Length: > 0 } && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
        {
            errors.Add("country", "country is the two letters an ISIN starts with, such as US or DE.");
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        if (!filter.IncludeRemoved)
        {
            query = query.Where(i => i.RemovedAt == null);
        }

        if (country is { Length: > 0 })
        {
            query = query.Where(i => i.Country == country);
        }

        if (q is { Length: 20 })
        {
            query = query.Where(i => i.Lei == q);
        }
        else if (q is { Length: > 0 })
        {
            // A prefix as a range over the primary key, which both databases answer from the index (LIKE would scan
            // the list on SQLite, whose LIKE ignores case, and on PostgreSQL in any collation but C).
            query = query.Where(i => i.Code.CompareTo(q) >= 0);
            if (IsinCode.PrefixEnd(q) is { } end)
            {
                query = query.Where(i => i.Code.CompareTo(end) < 0);
            }
        }

        return null;
    }

    /// <summary>What the last download of the configured source did, and how many ISINs are listed and removed.</summary>
    public async Task<IsinDownloadResponse> DownloadStateAsync(CancellationToken cancellationToken)
    {
        var source = options.Value.SourceUrl;
        var state = await db.Set<IsinDownload>().AsNoTracking().SingleOrDefaultAsync(d => d.SourceUrl == source, cancellationToken);
        var listed = await db.Set<Isin>().LongCountAsync(i => i.RemovedAt == null, cancellationToken);
        var removed = await db.Set<Isin>().LongCountAsync(i => i.RemovedAt != null, cancellationToken);
        return new IsinDownloadResponse(source, state?.ETag, state?.LastModified, state?.Sha256, state?.CheckedAt, state?.LoadedAt, state?.Outcome,
            state?.Rows ?? 0, state?.InvalidRows ?? 0, state?.Error, listed, removed);
    }
}
