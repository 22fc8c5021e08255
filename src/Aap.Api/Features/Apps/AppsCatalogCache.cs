using Microsoft.Extensions.Caching.Memory;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The in-process cache of the public catalog. Every entry is keyed with the current generation; an admin write
/// bumps the generation, which evicts every catalog entry at once (a tag eviction without tracking the keys).
/// Entries also expire after <see cref="Lifetime"/>, which bounds how stale another node's cache can be.
/// </summary>
internal sealed class AppsCatalogCache(IMemoryCache cache, AppsMetrics metrics)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    // Part of every ETag, so that a restarted node (whose generation starts again at 0) never matches an old one.
    private static readonly string Epoch = Guid.NewGuid().ToString("N")[..8];

    private long _generation;

    /// <summary>A validator for a cached response (quoted, to be used as a weak ETag): it changes whenever the catalog does.</summary>
    public string ETag(string key) =>
        $"\"{Epoch}-{Interlocked.Read(ref _generation)}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16]}\"";

    public async Task<T> GetOrCreateAsync<T>(string key, Func<Task<T>> create)
    {
        var entryKey = $"apps:{Interlocked.Read(ref _generation)}:{key}";
        if (cache.TryGetValue(entryKey, out T? cached))
        {
            metrics.CacheLookup(hit: true);
            return cached!;
        }

        metrics.CacheLookup(hit: false);

        var value = await create();
        cache.Set(entryKey, value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = Lifetime, Size = 1 });
        return value;
    }

    /// <summary>Called by every write to the catalog.</summary>
    public void Evict() => Interlocked.Increment(ref _generation);
}
