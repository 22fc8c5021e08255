using System.Diagnostics.Metrics;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Redis;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace Aap.Api.Platform.Caching;

/// <summary>
/// Cache invalidations that reach every node at once. A feature subscribes to a topic and publishes on it after a
/// write has committed; every node's handler runs, this node's synchronously, the others' within milliseconds:
/// <list type="bullet">
/// <item>over Redis pub/sub when <c>Redis:Configuration</c> is set and Redis answers;</item>
/// <item>on PostgreSQL, also with <c>pg_notify</c> on <see cref="ChannelName"/> (the nodes listen through
/// <see cref="DatabaseNotificationListener"/>): the database carries the signal when Redis is down or not used, and
/// a node that hears only one of the two still hears everything;</item>
/// <item>on SQLite without Redis, in this process only (one process owns the database).</item>
/// </list>
/// A node that hears neither (its Redis subscription and its PostgreSQL listener both down) is <see cref="Hearing"/>
/// false: caches that depend on the signals keep their entries for <see cref="DeafLifetime"/> at most until it hears
/// again. Whenever a transport is lost or comes back, every handler is called with <see cref="Everything"/>, since
/// signals may have been missed meanwhile.
/// </summary>
internal sealed partial class ClusterSignals : IDatabaseChannel, IHostedService, IDisposable
{
    /// <summary>The PostgreSQL notification channel (and the Redis channel's name under the key prefix).</summary>
    public const string ChannelName = "aap_cluster_signals";

    /// <summary>The payload handlers receive when anything may have changed (a transport was lost or restored).</summary>
    public const string Everything = "*";

    /// <summary>How long a node that hears no signals may keep what it caches.</summary>
    public static readonly TimeSpan DeafLifetime = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(250);

    private readonly RedisConnection _redis;
    private readonly DatabaseOptions _database;
    private readonly ILogger<ClusterSignals> _logger;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _received;
    private readonly string _node = Guid.NewGuid().ToString("N")[..12];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Func<string, Task>>> _handlers = new(StringComparer.Ordinal);
    private volatile bool _databaseListening;
    private volatile bool _redisHearing;
    private ITimer? _watch;

    public ClusterSignals(RedisConnection redis, IOptions<DatabaseOptions> database, ILogger<ClusterSignals> logger, IMeterFactory meters)
    {
        _redis = redis;
        _database = database.Value;
        OnPostgres = _database.ProviderKind == DatabaseProvider.Postgres;
        _logger = logger;
        var meter = meters.Create(MeterName);
        _sent = meter.CreateCounter<long>("aap.cache.signals.sent", "{signal}", "Cache invalidations this node announced to the others, by topic and transport.");
        _received = meter.CreateCounter<long>("aap.cache.signals.received", "{signal}", "Cache invalidations this node heard from another node, by topic and transport.");
        meter.CreateObservableGauge("aap.cache.signals.hearing", () => Hearing ? 1 : 0, "{state}",
            "1 while this node hears the other nodes' cache invalidations (or is alone), 0 while its caches fall back to a short lifetime.");
    }

    public const string MeterName = "aap.cache";

    // Read once: the provider's name is parsed from the settings, and Hearing is asked on every cached request.
    private bool OnPostgres { get; }

    /// <summary>
    /// Whether this node hears every other node's signals: over Redis or PostgreSQL, or trivially on SQLite without Redis.
    /// </summary>
    public bool Hearing => _redisHearing || _databaseListening || (!OnPostgres && !_redis.IsConfigured);

    /// <summary>How long a cache that relies on these signals may keep an entry stored now.</summary>
    public TimeSpan LifetimeNow(TimeSpan normal) => Hearing ? normal : (normal < DeafLifetime ? normal : DeafLifetime);

    /// <summary>Calls <paramref name="handler"/> with each payload published on <paramref name="topic"/> by any node, and with <see cref="Everything"/> when signals may have been missed.</summary>
    public void Subscribe(string topic, Func<string, Task> handler)
    {
        lock (_gate)
        {
            if (!_handlers.TryGetValue(topic, out var list))
            {
                _handlers[topic] = list = [];
            }

            list.Add(handler);
        }
    }

    /// <summary>
    /// Runs this node's handlers of <paramref name="topic"/> now, then announces it to the other nodes. Never throws for
    /// a transport that is down: the write it follows has committed; a node that cannot hear falls back on its own.
    /// <paramref name="overDatabase"/> false: over Redis only, for a change the database announces by itself (a trigger).
    /// </summary>
    public async Task PublishAsync(string topic, string payload = Everything, bool overDatabase = true)
    {
        await DeliverAsync(topic, payload);
        var message = $"{_node} {topic} {payload}";
        if (_redis.IsConfigured)
        {
            await PublishOverRedisAsync(topic, message);
        }

        if (OnPostgres && overDatabase)
        {
            await PublishOverPostgresAsync(topic, message);
        }
    }

    // The two transports in methods of their own: naming the Redis client's or Npgsql's types loads them, and a node
    // without Redis, or on SQLite, does not otherwise need them (LoadedAssembliesTests).
    private async Task PublishOverRedisAsync(string topic, string message)
    {
        if (_redis.IsAvailable)
        {
            try
            {
                await _redis.Multiplexer!.GetSubscriber().PublishAsync(_redis.Channel(ChannelName), message);
                _sent.Add(1, new("topic", topic), new("transport", "redis"));
            }
            catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
            {
                _redis.Failed("cache signal", error);
            }
        }
        else
        {
            _redis.Failed("cache signal");
        }
    }

    private async Task PublishOverPostgresAsync(string topic, string message)
    {
        try
        {
            await using var connection = new NpgsqlConnection(_database.ConnectionString);
            await connection.OpenAsync();
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
            notify.Parameters.AddWithValue("channel", ChannelName);
            notify.Parameters.AddWithValue("payload", message);
            await notify.ExecuteNonQueryAsync();
            _sent.Add(1, new("topic", topic), new("transport", "postgres"));
        }
        catch (Exception error) when (error is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            LogNotSent(_logger, error, topic);
        }
    }

    string IDatabaseChannel.Name => ChannelName;

    void IDatabaseChannel.OnNotification(string payload) => Receive(payload, "postgres");

    Task IDatabaseChannel.OnListeningChangedAsync(bool listening, CancellationToken cancellationToken)
    {
        _databaseListening = listening;
        DeliverEverywhere();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_redis.IsConfigured)
        {
            // The Redis connection reconnects by itself; this notices when it is lost or back (a subscription is
            // re-established by the multiplexer) and tells the handlers, since signals may have been missed.
            // Real time, not the application clock (which tests move by hand): this watches a real connection.
            _watch = TimeProvider.System.CreateTimer(_ => WatchRedis(), null, TimeSpan.Zero, WatchInterval);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watch?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _watch?.Dispose();

    private bool _subscribed;

    private void WatchRedis()
    {
        try
        {
            if (_redis.Multiplexer is not { } multiplexer)
            {
                return;
            }

            var channel = _redis.Channel(ChannelName);
            var subscriber = multiplexer.GetSubscriber();
            if (!_subscribed && multiplexer.IsConnected)
            {
                subscriber.Subscribe(channel, (_, message) => Receive(message.ToString(), "redis"));
                _subscribed = true;
            }

            var hearing = _subscribed && multiplexer.IsConnected && subscriber.IsConnected(channel);
            if (hearing != _redisHearing)
            {
                _redisHearing = hearing;
                if (hearing)
                {
                    LogHearing(_logger);
                }
                else
                {
                    _redis.Failed("cache signal subscription");
                }

                DeliverEverywhere();
            }
        }
        catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
        {
            _redis.Failed("cache signal subscription", error);
            if (_redisHearing)
            {
                _redisHearing = false;
                DeliverEverywhere();
            }
        }
    }

    private void Receive(string message, string transport)
    {
        var parts = message.Split(' ', 3);
        if (parts.Length != 3)
        {
            DeliverEverywhere();
            return;
        }

        if (parts[0] == _node)
        {
            return;
        }

        _received.Add(1, new("topic", parts[1]), new("transport", transport));
        _ = DeliverAsync(parts[1], parts[2]);
    }

    private void DeliverEverywhere()
    {
        string[] topics;
        lock (_gate)
        {
            topics = [.. _handlers.Keys];
        }

        foreach (var topic in topics)
        {
            _ = DeliverAsync(topic, Everything);
        }
    }

    private async Task DeliverAsync(string topic, string payload)
    {
        Func<string, Task>[] handlers;
        lock (_gate)
        {
            handlers = _handlers.TryGetValue(topic, out var list) ? [.. list] : [];
        }

        foreach (var handler in handlers)
        {
            try
            {
                await handler(payload);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                LogHandlerFailed(_logger, error, topic);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Hearing the other nodes' cache invalidations over Redis")]
    private static partial void LogHearing(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not announce the cache invalidation {Topic} over PostgreSQL; nodes that do not hear it by Redis keep their entries until they expire")]
    private static partial void LogNotSent(ILogger logger, Exception error, string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of the cache invalidation {Topic} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error, string topic);
}

internal static class ClusterSignalsSetup
{
    public static IServiceCollection AddClusterSignals(this IServiceCollection services)
    {
        services.AddSingleton<ClusterSignals>();
        services.AddSingleton<IDatabaseChannel>(provider => provider.GetRequiredService<ClusterSignals>());
        services.AddHostedService(provider => provider.GetRequiredService<ClusterSignals>());
        return services;
    }
}
