using System.Globalization;
using System.Runtime.CompilerServices;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The accounts <c>GET /api/v1/me</c> answered recently, by user id: the most frequent call of a signed-in client
/// then costs no query. It is kept coherent, not merely short-lived:
/// <list type="bullet">
/// <item>every save of a user through EF evicts it, before and after the save (<see cref="ProfileCacheInvalidator"/>);</item>
/// <item>a read that raced with an eviction does not store what it read;</item>
/// <item>on PostgreSQL, where several nodes share the database, the save is announced with <c>NOTIFY</c> and every
/// node evicts it (<see cref="ProfileChangesListener"/>); a node that is not listening does not use the cache.</item>
/// </list>
/// Entries also expire after a minute, which bounds how long a change made outside AAP (SQL by hand) goes unseen.
/// Bulk updates of users (<c>ExecuteUpdate</c>) bypass EF's change tracking and must call <see cref="Evict"/>.
/// </summary>
internal sealed class ProfileCache : IDisposable
{
    /// <summary>The PostgreSQL notification channel; the payload is a comma-separated list of user ids, or <c>*</c>.</summary>
    public const string Channel = "aap_profile_changes";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    // Compiled once per instance, not per process: a compiled query keeps the translation of the first database
    // it ran on, and one process may host applications on different databases (tests do).
    private readonly Func<AppDbContext, long, CancellationToken, Task<MeResponse?>> _findActive =
        EF.CompileAsyncQuery((AppDbContext db, long id, CancellationToken _) => db.Users
            .AsNoTracking()
            .Where(u => u.Id == id && u.IsActive)
            .Select(u => new MeResponse(u.Id, u.UserName, u.Email, u.Role, u.CreatedAt, u.UpdatedAt))
            .SingleOrDefault());

    private readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly Lock _gate = new();
    private long _generation;
    private volatile bool _coherent;

    public ProfileCache(IOptions<DatabaseOptions> database)
    {
        // One process owns an SQLite database; PostgreSQL nodes wait until they hear the others.
        _coherent = database.Value.ProviderKind == DatabaseProvider.Sqlite;
    }

    /// <summary>
    /// The active account with this id, from memory when it is known there, else from the database through the
    /// request's <see cref="AppDbContext"/> (resolved only then).
    /// </summary>
    public async Task<MeResponse?> FindActiveAsync(IServiceProvider requestServices, long id, CancellationToken cancellationToken)
    {
        if (_coherent && _entries.TryGetValue(id, out MeResponse? known))
        {
            return known;
        }

        var generation = Volatile.Read(ref _generation);
        var found = await _findActive(requestServices.GetRequiredService<AppDbContext>(), id, cancellationToken);
        if (found is not null)
        {
            lock (_gate)
            {
                // An eviction since the read began may concern this very row: what was read may be stale.
                if (_coherent && generation == _generation)
                {
                    _entries.Set(id, found, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });
                }
            }
        }

        return found;
    }

    public void Evict(IEnumerable<long> ids)
    {
        lock (_gate)
        {
            _generation++;
            foreach (var id in ids)
            {
                _entries.Remove(id);
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _generation++;
            _entries.Clear();
        }
    }

    /// <summary>Whether every change of a user reaches this node; while it does not, the cache is empty and unused.</summary>
    public bool Coherent
    {
        get => _coherent;
        set
        {
            lock (_gate)
            {
                _coherent = value;
                _generation++;
                _entries.Clear();
            }
        }
    }

    public void Dispose() => _entries.Dispose();
}

/// <summary>
/// Evicts the users a save changes from <see cref="ProfileCache"/>, and on PostgreSQL announces them to the other
/// nodes once the save has committed. A save inside an explicit transaction is announced when the save returns.
/// </summary>
internal sealed partial class ProfileCacheInvalidator(
    ProfileCache cache, IOptions<DatabaseOptions> database, ILogger<ProfileCacheInvalidator> logger) : SaveChangesInterceptor
{
    // More ids than this in one save are announced as "everyone", which keeps the payload far below PostgreSQL's limit.
    private const int MaxAnnouncedIds = 200;

    private readonly ConditionalWeakTable<DbContext, long[]> _saving = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Saving(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Saving(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Saved(eventData.Context) is { } payload)
        {
            try
            {
                using var connection = new NpgsqlConnection(database.Value.ConnectionString);
                connection.Open();
                using var notify = Notify(connection, payload);
                notify.ExecuteNonQuery();
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                LogNotAnnounced(logger, error, payload);
            }
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(
        SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (Saved(eventData.Context) is { } payload)
        {
            // Not cancellable: the change is committed, and the other nodes must hear of it.
            try
            {
                await using var connection = new NpgsqlConnection(database.Value.ConnectionString);
                await connection.OpenAsync(CancellationToken.None);
                await using var notify = Notify(connection, payload);
                await notify.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                // The change itself is saved: the request succeeds, and other nodes catch up within a minute.
                LogNotAnnounced(logger, error, payload);
            }
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private void Saving(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var ids = context.ChangeTracker.Entries<User>()
            .Where(e => e.State is EntityState.Modified or EntityState.Deleted)
            .Select(e => e.Entity.Id)
            .ToArray();
        if (ids.Length > 0)
        {
            cache.Evict(ids);
            _saving.AddOrUpdate(context, ids);
        }
    }

    /// <summary>Evicts again, now that the save has committed; returns what to announce, if anything.</summary>
    private string? Saved(DbContext? context)
    {
        if (context is null || !_saving.TryGetValue(context, out var ids))
        {
            return null;
        }

        _saving.Remove(context);
        cache.Evict(ids);
        if (database.Value.ProviderKind != DatabaseProvider.Postgres)
        {
            return null;
        }

        return ids.Length > MaxAnnouncedIds ? "*" : string.Join(',', ids.Select(id => id.ToString(CultureInfo.InvariantCulture)));
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _saving.Remove(context);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saved accounts {UserIds} could not be announced to the other nodes; they may show the old accounts for up to a minute")]
    private static partial void LogNotAnnounced(ILogger logger, Exception error, string userIds);

    private static NpgsqlCommand Notify(NpgsqlConnection connection, string payload) =>
        new("SELECT pg_notify(@channel, @payload)", connection)
        {
            Parameters = { new("channel", ProfileCache.Channel), new("payload", payload) },
        };
}

/// <summary>
/// On PostgreSQL, listens on <see cref="ProfileCache.Channel"/> over a connection of its own and evicts the users
/// other nodes changed. While the connection is down, notifications may be missed: the cache is emptied and unused
/// until it is back, retried every few seconds.
/// </summary>
internal sealed partial class ProfileChangesListener(
    ProfileCache cache, IOptions<DatabaseOptions> database, ILogger<ProfileChangesListener> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Value.ProviderKind != DatabaseProvider.Postgres)
        {
            return;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(database.Value.ConnectionString)
        {
            // A connection of its own, probed so that a silently dropped one is noticed.
            Pooling = false,
            KeepAlive = 15,
        }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, notification) => OnNotification(notification.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {ProfileCache.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                cache.Coherent = true;
                LogListening(logger);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error) when (error is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                cache.Coherent = false;
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

        cache.Coherent = false;
    }

    private void OnNotification(string payload)
    {
        if (payload == "*")
        {
            cache.Clear();
            return;
        }

        var ids = new List<long>();
        foreach (var part in payload.Split(','))
        {
            if (long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                ids.Add(id);
            }
            else
            {
                // Not ours to understand: the safe reading is that anyone may have changed.
                cache.Clear();
                return;
            }
        }

        cache.Evict(ids);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for account changes of other nodes")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the account-change notifications; the account cache is off until they are back (retry in {Seconds} s)")]
    private static partial void LogLost(ILogger logger, Exception error, double seconds);
}
