using Microsoft.Extensions.Caching.Memory;

namespace Aap.Api.Features.Isins;

/// <summary>
/// The totals of the ISIN list's pages by number, kept per filter until the list is loaded again. The list changes
/// only when the daily download loads a new file, but a page by number counted the whole filtered list on every
/// request (about 0.2 s over 900,000 ISINs, and GLEIF's file has millions). A total is kept under the time of the
/// last load, which every node reads from <c>isin_downloads</c> (one row by its key), so that a load on any node
/// retires the totals of every node at the next request; it also expires after <see cref="Lifetime"/>, for a list
/// changed without a load (by hand, in SQL).
/// </summary>
internal sealed class IsinCounts : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _totals = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    /// <summary>The total of <paramref name="filter"/> in the list as loaded at <paramref name="loadedAt"/>, counted by <paramref name="count"/> when not known.</summary>
    public async Task<long> GetAsync(IsinFilter filter, DateTime? loadedAt, Func<CancellationToken, Task<long>> count, CancellationToken cancellationToken)
    {
        var key = new Key(loadedAt, filter.Q?.Trim().ToUpperInvariant(), filter.Country?.Trim().ToUpperInvariant(), filter.IncludeRemoved);
        if (_totals.TryGetValue(key, out long total))
        {
            return total;
        }

        total = await count(cancellationToken);
        _totals.Set(key, total, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });
        return total;
    }

    public void Dispose() => _totals.Dispose();

    private sealed record Key(DateTime? LoadedAt, string? Q, string? Country, bool IncludeRemoved);
}
