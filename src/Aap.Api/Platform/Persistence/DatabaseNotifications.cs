using Microsoft.Extensions.Options;
using Npgsql;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// A PostgreSQL notification channel a feature listens on, so that a change committed by any node (or by any
/// program) reaches every node. Register implementations as singletons of this interface.
/// </summary>
internal interface IDatabaseChannel
{
    /// <summary>The channel name, a plain SQL identifier (it is written into <c>LISTEN</c>).</summary>
    string Name { get; }

    /// <summary>A notification's payload. Runs on the listening connection's thread: keep it short, never block.</summary>
    void OnNotification(string payload);

    /// <summary>
    /// Called with true once the node listens (at start and after every reconnection: whatever was announced
    /// meanwhile was missed, so this is the moment to catch up), and with false when it stops hearing.
    /// </summary>
    Task OnListeningChangedAsync(bool listening, CancellationToken cancellationToken);
}

/// <summary>
/// On PostgreSQL, listens on every registered <see cref="IDatabaseChannel"/> over one connection of its own and
/// hands each notification to its channel. While the connection is down, notifications may be missed: every
/// channel is told, and listening is retried every <c>Database:ListenRetrySeconds</c>. On SQLite, one process
/// owns the database and there is nothing to hear: this does nothing.
/// </summary>
internal sealed partial class DatabaseNotificationListener(
    IEnumerable<IDatabaseChannel> channels, IOptions<DatabaseOptions> database, ILogger<DatabaseNotificationListener> logger) : BackgroundService
{
    private readonly List<IDatabaseChannel> _channels = channels.ToList();
    private readonly string _names = string.Join(", ", channels.Select(c => c.Name));

    private TimeSpan RetryDelay => TimeSpan.FromSeconds(database.Value.ListenRetrySeconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_channels.Count == 0 || database.Value.ProviderKind != DatabaseProvider.Postgres)
        {
            return;
        }

        await ListenAsync(stoppingToken);
    }

    /// <summary>
    /// The listening loop, apart from <see cref="ExecuteAsync"/> so that a node on SQLite never compiles code that
    /// names Npgsql's types, and so never loads the driver (<c>LoadedAssembliesTests</c>).
    /// </summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var byName = _channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var connectionString = new NpgsqlConnectionStringBuilder(database.Value.ConnectionString)
        {
            // A connection of its own, probed so that a silently dropped one is noticed.
            Pooling = false,
            KeepAlive = 15,
        }.ConnectionString;
        var listening = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, notification) =>
                {
                    if (byName.TryGetValue(notification.Channel, out var channel))
                    {
                        channel.OnNotification(notification.Payload);
                    }
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand(string.Concat(_channels.Select(c => $"LISTEN {c.Name};")), connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                listening = true;
                await NotifyListeningAsync(true, stoppingToken);
                LogListening(logger, _names);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong (the connection, or a channel's catch-up under load), listening is retried: a
                // background service that throws would stop the whole node.
                if (listening)
                {
                    listening = false;
                    await NotifyListeningAsync(false, stoppingToken);
                }

                LogLost(logger, error, RetryDelay.TotalSeconds);
            }

            try
            {
                await Task.Delay(RetryDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await NotifyListeningAsync(false, CancellationToken.None);
    }

    private async Task NotifyListeningAsync(bool listening, CancellationToken cancellationToken)
    {
        foreach (var channel in _channels)
        {
            try
            {
                await channel.OnListeningChangedAsync(listening, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One channel's failure to catch up must not keep the others from hearing, nor stop the node.
                LogChannelFailed(logger, error, channel.Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The change channel {Channel} failed to catch up after listening changed")]
    private static partial void LogChannelFailed(ILogger logger, Exception error, string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for changes made by other nodes on {Channels}")]
    private static partial void LogListening(ILogger logger, string channels);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the change notifications of other nodes; caches that depend on them are off until they are back (retry in {Seconds} s)")]
    private static partial void LogLost(ILogger logger, Exception error, double seconds);
}
