using Aap.Api.Platform.Redis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;

namespace Aap.Api.Platform.Caching;

/// <summary>
/// ASP.NET Core's output cache for the routes that ask for it (<see cref="CachedOutputPolicy"/>): in this node's
/// memory, or with <c>Redis:Configuration</c> in Redis, shared by every node, through the node's one Redis
/// connection. While Redis is unreachable, entries are stored and looked up in the node's memory instead (with a
/// warning and <c>aap_redis_failures_total</c>), never an error and never a wait for Redis's timeout on each read.
/// Tag evictions go to both, so that what either holds is evicted.
/// </summary>
internal sealed class ResilientOutputCacheStore(IOutputCacheStore? shared, IOutputCacheStore local, RedisConnection redis) : IOutputCacheStore
{
    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
    {
        await local.EvictByTagAsync(tag, cancellationToken);
        if (shared is not null)
        {
            if (redis.IsAvailable)
            {
                try
                {
                    await shared.EvictByTagAsync(tag, cancellationToken);
                    return;
                }
                catch (Exception error) when (IsRedisFailure(error))
                {
                    redis.Failed("output cache eviction", error);
                }
            }
            else
            {
                redis.Failed("output cache eviction");
            }

            // Entries stored in Redis before it became unreachable and not evicted now must not outlive its return:
            // the signals deliver "everything" to the feature's handler once Redis is back, which evicts again.
        }
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (shared is not null && redis.IsAvailable)
        {
            try
            {
                return await shared.GetAsync(key, cancellationToken);
            }
            catch (Exception error) when (IsRedisFailure(error))
            {
                redis.Failed("output cache read", error);
            }
        }
        else if (shared is not null)
        {
            redis.Failed("output cache read");
        }

        return await local.GetAsync(key, cancellationToken);
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        if (shared is not null && redis.IsAvailable)
        {
            try
            {
                await shared.SetAsync(key, value, tags, validFor, cancellationToken);
                return;
            }
            catch (Exception error) when (IsRedisFailure(error))
            {
                redis.Failed("output cache write", error);
            }
        }
        else if (shared is not null)
        {
            redis.Failed("output cache write");
        }

        await local.SetAsync(key, value, tags, validFor, cancellationToken);
    }

    private static bool IsRedisFailure(Exception error) =>
        error is StackExchange.Redis.RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException;
}

/// <summary>
/// The output-cache policy of a route whose anonymous GET answer is the same for every anonymous caller: stored
/// under <paramref name="tag"/> (which <see cref="ClusterSignals"/> handlers evict on every node) for
/// <paramref name="lifetime"/>, or <see cref="ClusterSignals.DeafLifetime"/> while this node hears no signals.
/// Never for a caller who is signed in or sends credentials, never a response that sets a cookie, only a 200.
/// <paramref name="version"/> (optional) is read when the request starts and again before the response is stored:
/// a response computed across an eviction is not stored.
/// </summary>
/// <remarks>
/// <see cref="ForAudiences"/> gives the same tag, lifetime and version to a route whose answer is the same for every
/// caller of one <em>audience</em> (guests, users, admins: whatever the route's answer varies by), signed in or not:
/// each audience has its own entries, and a request the function gives no audience is neither looked up nor stored.
/// </remarks>
internal sealed class CachedOutputPolicy(
    string tag, TimeSpan lifetime, Func<long>? version = null, Func<HttpContext, string?>? audience = null, string[]? varyByHeaders = null) : IOutputCachePolicy
{
    private const string VersionItem = "aap.output-cache.version";

    private ClusterSignals? _signals;
    private OutputCacheMetrics? _metrics;

    private OutputCacheMetrics Metrics(HttpContext http) => _metrics ??= http.RequestServices.GetRequiredService<OutputCacheMetrics>();

    /// <summary>
    /// This policy for a route that signed-in callers may share too: <paramref name="audienceOf"/> names the caller's
    /// audience (null: do not cache this request), and the entries also vary by <paramref name="headers"/>.
    /// </summary>
    public CachedOutputPolicy ForAudiences(Func<HttpContext, string?> audienceOf, params string[] headers) =>
        new(tag, lifetime, version, audienceOf, headers);

    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var safe = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        bool cacheable;
        if (audience is null)
        {
            cacheable = safe && http.User.Identity?.IsAuthenticated != true && request.Headers.Authorization.Count == 0;
        }
        else
        {
            var who = safe ? audience(http) : null;
            cacheable = who is not null;
            if (cacheable)
            {
                // A prefix rather than a vary-by value: no dictionary to allocate for every request.
                context.CacheVaryByRules.CacheKeyPrefix = who;
            }

            if (varyByHeaders is { Length: > 0 })
            {
                context.CacheVaryByRules.HeaderNames = varyByHeaders;
            }
        }

        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = true;
        context.CacheVaryByRules.QueryKeys = "*";
        context.Tags.Add(tag);
        // Singletons of the host this policy was made for (one policy per host): looked up once, not per request.
        _signals ??= http.RequestServices.GetRequiredService<ClusterSignals>();
        context.ResponseExpirationTimeSpan = _signals.LifetimeNow(lifetime);
        if (version is not null)
        {
            http.Items[VersionItem] = version();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        Metrics(context.HttpContext).Lookup(tag, hit: true);
        return ValueTask.CompletedTask;
    }

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        if (context.AllowCacheLookup)
        {
            Metrics(context.HttpContext).Lookup(tag, hit: false);
        }

        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.SetCookie.Count > 0
            || (version is not null && context.HttpContext.Items[VersionItem] is long before && before != version()))
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Keeps a cached response free of another caller's headers. Runs inside the output cache, right before the
/// endpoint: the headers set so far (by the middleware in front: request id, rate-limit fields, CORS, security
/// headers, cookies) belong to this request, so they are taken out of the response before the output cache copies
/// its headers and put back when the response starts. A stored response then holds only what the endpoint wrote;
/// a response served from the cache carries the headers the middleware in front set for the caller being served.
/// </summary>
internal sealed class PerRequestHeadersOutsideCache(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IOutputCachePolicy>() is null || context.Response.Headers.Count == 0)
        {
            return next(context);
        }

        var headers = context.Response.Headers;
        var kept = headers.ToList();
        headers.Clear();
        context.Response.OnStarting(static state =>
        {
            var (response, saved) = ((HttpResponse, List<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>>))state;
            foreach (var (name, value) in saved)
            {
                // As without this: what the endpoint wrote later wins, except that Vary lists both.
                if (!response.Headers.TryGetValue(name, out var own))
                {
                    response.Headers[name] = value;
                }
                else if (name.Equals("Vary", StringComparison.OrdinalIgnoreCase))
                {
                    response.Headers[name] = Microsoft.Extensions.Primitives.StringValues.Concat(value, own);
                }
            }

            return Task.CompletedTask;
        }, (context.Response, kept));
        return next(context);
    }
}

/// <summary>The output cache's look-ups by tag and result (the framework's middleware counts none).</summary>
internal sealed class OutputCacheMetrics
{
    private readonly System.Diagnostics.Metrics.Counter<long> _lookups;

    public OutputCacheMetrics(System.Diagnostics.Metrics.IMeterFactory meters) =>
        _lookups = System.Diagnostics.Metrics.MeterFactoryExtensions.Create(meters, ClusterSignals.MeterName).CreateCounter<long>("aap.cache.output.lookups", "{lookup}",
            "Output-cache look-ups, by tag and result (hit: answered from the cache; miss: the endpoint ran).");

    public void Lookup(string tag, bool hit) => _lookups.Add(1, new("tag", tag), new("result", hit ? "hit" : "miss"));
}

internal static class SharedOutputCacheSetup
{
    public static IServiceCollection AddSharedOutputCache(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<OutputCacheMetrics>();
        services.AddOutputCache(options =>
        {
            options.SizeLimit = 64L * 1024 * 1024;
            options.MaximumBodySize = 1024 * 1024;
        });

        // The store AddOutputCache registers (in memory), kept as this node's fallback.
        var memory = services.Last(d => d.ServiceType == typeof(IOutputCacheStore));
        services.Remove(memory);
        ServiceDescriptor? redisStore = null;
        if (configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>() is { Enabled: true })
        {
            var scratch = new ServiceCollection();
            scratch.AddStackExchangeRedisOutputCache(_ => { });
            redisStore = scratch.Last(d => d.ServiceType == typeof(IOutputCacheStore));
            services.AddOptions<RedisOutputCacheOptions>().Configure<RedisConnection, Microsoft.Extensions.Options.IOptions<RedisOptions>>((options, redis, settings) =>
            {
                // The node's one connection, not a second one of the store's own.
                options.ConnectionMultiplexerFactory = () => Task.FromResult(redis.Multiplexer ?? throw new InvalidOperationException("Redis has not started."));
                options.InstanceName = settings.Value.KeyPrefix + "output:";
            });
        }

        services.AddSingleton<IOutputCacheStore>(provider => new ResilientOutputCacheStore(
            redisStore is null ? null : Create(provider, redisStore),
            Create(provider, memory),
            provider.GetRequiredService<RedisConnection>()));
        return services;
    }

    private static IOutputCacheStore Create(IServiceProvider provider, ServiceDescriptor descriptor) =>
        (IOutputCacheStore)(descriptor.ImplementationInstance
                            ?? descriptor.ImplementationFactory?.Invoke(provider)
                            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!));

    /// <summary>The output cache, after authentication and the rate limiter (a cached answer still counts against a limit).</summary>
    public static WebApplication UseSharedOutputCache(this WebApplication app)
    {
        app.UseOutputCache();
        app.UseMiddleware<PerRequestHeadersOutsideCache>();
        return app;
    }
}
