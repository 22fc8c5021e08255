using Aap.Api.Platform.Caching;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Caching.Memory;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The cache of the public catalog, in two layers: this node's memory holds the data every catalog read uses (the
/// API, the seed routes, the web pages), keyed with the current generation; the output cache holds anonymous API
/// answers under the tag <see cref="Tag"/> (<see cref="OutputPolicy"/>). An admin write bumps the generation and
/// evicts the tag on every node at once (<see cref="ClusterSignals"/>: Redis pub/sub, PostgreSQL notifications);
/// entries also expire after <see cref="Lifetime"/>, or after <see cref="ClusterSignals.DeafLifetime"/> when they were
/// stored while this node could not hear the other nodes.
/// </summary>
internal sealed partial class AppsCatalogCache
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    /// <summary>The output-cache tag and the signal topic of the catalog.</summary>
    public const string Tag = "catalog";

    // Part of every ETag, so that a restarted node (whose generation starts again at 0) never matches an old one.
    private static readonly string Epoch = Guid.NewGuid().ToString("N")[..8];

    private readonly IMemoryCache _cache;
    private readonly AppsMetrics _metrics;
    private readonly ClusterSignals _signals;
    private readonly IOutputCacheStore _output;
    private readonly ILogger<AppsCatalogCache> _logger;
    private long _generation;

    public AppsCatalogCache(IMemoryCache cache, AppsMetrics metrics, ClusterSignals signals, IOutputCacheStore output, ILogger<AppsCatalogCache> logger)
    {
        _cache = cache;
        _metrics = metrics;
        _signals = signals;
        _output = output;
        _logger = logger;
        OutputPolicy = new CachedOutputPolicy(Tag, Lifetime, () => Interlocked.Read(ref _generation));
        signals.Subscribe(Tag, _ => EvictHereAsync());
    }

    /// <summary>The output-cache policy of the anonymous catalog routes.</summary>
    public CachedOutputPolicy OutputPolicy { get; }

    /// <summary>A validator for a cached response (quoted, to be used as a weak ETag): it changes whenever the catalog does.</summary>
    public string ETag(string key) =>
        $"\"{Epoch}-{Interlocked.Read(ref _generation)}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16]}\"";

    public async Task<T> GetOrCreateAsync<T>(string key, Func<Task<T>> create)
    {
        var entryKey = EntryKey(key);
        if (_cache.TryGetValue(entryKey, out T? cached))
        {
            _metrics.CacheLookup(hit: true);
            return cached!;
        }

        _metrics.CacheLookup(hit: false);

        var value = await create();
        Keep(entryKey, value);
        return value;
    }

    /// <summary>
    /// As <see cref="GetOrCreateAsync{T}"/>, but a null read is not kept: what ids that name nothing (or an inactive
    /// app) are asked for is read each time rather than filling the cache.
    /// </summary>
    public async Task<T?> FindAsync<T>(string key, Func<Task<T?>> read)
        where T : class
    {
        var entryKey = EntryKey(key);
        if (_cache.TryGetValue(entryKey, out T? cached) && cached is not null)
        {
            _metrics.CacheLookup(hit: true);
            return cached;
        }

        _metrics.CacheLookup(hit: false);
        var value = await read();
        if (value is not null)
        {
            Keep(entryKey, value);
        }

        return value;
    }

    /// <summary>The entry's key in the current generation: a read that an eviction overtakes is stored under the old one, never read again.</summary>
    private string EntryKey(string key) => $"apps:{Interlocked.Read(ref _generation)}:{key}";

    private void Keep<T>(string entryKey, T value) =>
        _cache.Set(entryKey, value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = _signals.LifetimeNow(Lifetime), Size = 1 });

    /// <summary>Called by every write to the catalog once it has committed: evicts the catalog here and on every other node.</summary>
    public Task EvictAsync() => _signals.PublishAsync(Tag);

    private async Task EvictHereAsync()
    {
        Interlocked.Increment(ref _generation);
        try
        {
            await _output.EvictByTagAsync(Tag, CancellationToken.None);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            LogOutputNotEvicted(_logger, error);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not evict the catalog's cached responses")]
    private static partial void LogOutputNotEvicted(ILogger logger, Exception error);
}
