using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Aap.Api.Platform.Redis;

/// <summary>
/// The node's one connection to Redis when <c>Redis:Configuration</c> is set. It connects at start without
/// waiting for the server (a node starts, and serves, while Redis is down) and reconnects by itself. Whoever uses
/// Redis checks <see cref="IsAvailable"/>, falls back to the node's own memory when it is false or a command
/// fails, and reports the failure with <see cref="Failed"/>: a Redis outage degrades to per-node behaviour with a
/// warning and a metric, never to errors.
/// </summary>
internal sealed partial class RedisConnection : IHostedService, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly ILogger<RedisConnection> _logger;
    private readonly TimeProvider _clock;
    private readonly Counter<long> _failures;
    private ConnectionMultiplexer? _multiplexer;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _lastWarningMs = new(StringComparer.Ordinal);

    public RedisConnection(IOptions<RedisOptions> options, ILogger<RedisConnection> logger, TimeProvider clock, IMeterFactory meters)
    {
        _options = options.Value;
        _logger = logger;
        _clock = clock;
        var meter = meters.Create(MeterName);
        _failures = meter.CreateCounter<long>("aap.redis.failures", "{failure}", "Redis commands that failed or were skipped because Redis was unreachable, by operation; the node used its own memory instead.");
        meter.CreateObservableGauge("aap.redis.connected", () => IsConfigured ? [new Measurement<int>(IsAvailable ? 1 : 0)] : Array.Empty<Measurement<int>>(),
            "{connection}", "1 while this node is connected to Redis, 0 while it is not (only when Redis is configured).");
    }

    public const string MeterName = "aap.redis";

    public bool IsConfigured => _options.Enabled;

    /// <summary>True while the node holds a working connection.</summary>
    public bool IsAvailable => _multiplexer is { IsConnected: true };

    /// <summary>The multiplexer, once started (null without Redis).</summary>
    public IConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <summary>The database commands go to; only call it when <see cref="IsAvailable"/>.</summary>
    public IDatabase Database => (_multiplexer ?? throw new InvalidOperationException("Redis is not configured.")).GetDatabase();

    /// <summary>A key under this deployment's prefix.</summary>
    public RedisKey Key(string name) => _options.KeyPrefix + name;

    /// <summary>A pub/sub channel under this deployment's prefix.</summary>
    public RedisChannel Channel(string name) => RedisChannel.Literal(_options.KeyPrefix + name);

    /// <summary>
    /// Counts a failed (or skipped) Redis operation and logs a warning, at most one every 10 s per operation so that
    /// an outage does not flood the log, yet each degraded feature (limits, caches, signals) is named once.
    /// </summary>
    public void Failed(string operation, Exception? error = null)
    {
        _failures.Add(1, new KeyValuePair<string, object?>("operation", operation));
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var warn = false;
        _lastWarningMs.AddOrUpdate(
            operation,
            _ =>
            {
                warn = true;
                return now;
            },
            (_, last) =>
            {
                if (now - last < 10_000)
                {
                    return last;
                }

                warn = true;
                return now;
            });
        if (warn)
        {
            LogDegraded(_logger, error, operation);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsConfigured)
        {
            return;
        }

        await ConnectAsync();
    }

    /// <summary>
    /// Apart from <see cref="StartAsync"/>, so that a node without Redis never loads the client: the state of an
    /// asynchronous method that awaits the client's types names them, and loading it loads their assembly
    /// (<c>LoadedAssembliesTests</c>).
    /// </summary>
    private async Task ConnectAsync()
    {
        var configuration = ConfigurationOptions.Parse(_options.Configuration!);
        configuration.AbortOnConnectFail = false;
        if (!_options.Configuration!.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            configuration.ConnectTimeout = Math.Max(_options.TimeoutMilliseconds * 4, 1000);
        }

        configuration.SyncTimeout = _options.TimeoutMilliseconds;
        configuration.AsyncTimeout = _options.TimeoutMilliseconds;
        configuration.ClientName ??= $"aap-{Environment.MachineName}";
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        _multiplexer.ConnectionFailed += OnConnectionFailed;
        _multiplexer.ConnectionRestored += OnConnectionRestored;
        if (_multiplexer.IsConnected)
        {
            LogConnected(_logger, _multiplexer.Configuration);
        }
        else
        {
            LogStartedWithout(_logger, _multiplexer.Configuration);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            LogLost(_logger, e.Exception, Describe(e.EndPoint), e.FailureType);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        LogRestored(_logger, e.ConnectionType);
    }

    private static string Describe(System.Net.EndPoint? endpoint) => endpoint?.ToString() ?? "?";

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.CloseAsync(allowCommandsToComplete: false);
            await _multiplexer.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Redis at {Endpoints}")]
    private static partial void LogConnected(ILogger logger, string endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoints} is unreachable at start: limits and caches are per node until it answers")]
    private static partial void LogStartedWithout(ILogger logger, string endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to Redis at {Endpoint} ({Failure}): limits and caches are per node until it is back")]
    private static partial void LogLost(ILogger logger, Exception? error, string endpoint, ConnectionFailureType failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to Redis restored ({ConnectionType})")]
    private static partial void LogRestored(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable for {Operation}: this node uses its own memory instead (per-node limits and caches)")]
    private static partial void LogDegraded(ILogger logger, Exception? error, string operation);
}

/// <summary>
/// The readiness entry <c>redis</c>: Healthy when connected, Degraded when configured and unreachable (the node still
/// serves, with per-node limits and caches, so readiness stays 200).
/// </summary>
internal sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(redis.IsAvailable
            ? HealthCheckResult.Healthy("Connected to Redis.")
            : HealthCheckResult.Degraded("Redis is unreachable: limits and caches are per node until it answers."));
}

internal static class RedisSetup
{
    public static IServiceCollection AddAapRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RedisConnection>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisConnection>());
        if (configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>() is { Enabled: true })
        {
            services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", HealthStatus.Degraded, [Persistence.DatabaseHealthCheck.ReadyTag]);
        }

        return services;
    }
}
