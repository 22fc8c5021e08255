using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The accounts <c>GET /api/v1/me</c> answered recently, by user id: the most frequent call of a signed-in client
/// then costs no query. It is kept coherent, not merely short-lived:
/// <list type="bullet">
/// <item>every save of a user through EF evicts it, before the save and once it has committed
/// (<see cref="ProfileCacheInvalidator"/>);</item>
/// <item>a read that raced with an eviction does not store what it read;</item>
/// <item>on PostgreSQL, where several nodes share the database, a trigger announces every committed change of a
/// user row with <c>NOTIFY</c>, and every node evicts it (<see cref="ProfileChanges"/>); a node that is not
/// listening does not use the cache.</item>
/// </list>
/// Entries also expire after a minute, which bounds how long a change that none of this sees stays unseen: on
/// SQLite, an edit by another program, or a bulk update (<c>ExecuteUpdate</c>) that does not call <see cref="Evict"/>.
/// </summary>
internal sealed class ProfileCache : IDisposable
{
    /// <summary>
    /// The PostgreSQL notification channel, named by migration 0008's trigger too; the payload is a comma-separated
    /// list of user ids, or <c>*</c> for any.
    /// </summary>
    public const string Channel = "aap_profile_changes";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    // Compiled once per instance, not per process: a compiled query keeps the translation of the first database
    // it ran on, and one process may host applications on different databases (tests do).
    private readonly Func<AppDbContext, long, CancellationToken, Task<MeResponse?>> _findActive =
        EF.CompileAsyncQuery((AppDbContext db, long id, CancellationToken _) => db.Set<User>()
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
            _coherent = value;
            Clear();
        }
    }

    public void Dispose() => _entries.Dispose();
}

/// <summary>
/// Evicts the users a save changes from this node's <see cref="ProfileCache"/>: before the save, and again once it
/// has committed (when <c>SaveChanges</c> returns, or when the transaction around it commits), so that a read that
/// ran in between cannot keep what it read. On PostgreSQL a trigger also announces every committed change of
/// <c>users</c> to every node, this one included (migration 0008, <see cref="ProfileChanges"/>).
/// </summary>
internal sealed class ProfileCacheInvalidator(ProfileCache cache) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    // Users saved by a context and not yet known to be committed.
    private readonly ConditionalWeakTable<DbContext, HashSet<long>> _pending = [];

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Saving(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Saving(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        EndOfSave(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        EndOfSave(eventData.Context);
        return ValueTask.FromResult(result);
    }

    // A failed or cancelled save may still have committed (a connection lost during the commit): evict again.
    public void SaveChangesFailed(DbContextErrorEventData eventData) => EndOfSave(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        EndOfSave(eventData.Context);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => EndOfSave(eventData.Context);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        EndOfSave(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => EndOfTransaction(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        EndOfTransaction(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => EndOfTransaction(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        EndOfTransaction(eventData.Context);
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
            .ToList();
        if (ids.Count == 0)
        {
            return;
        }

        cache.Evict(ids);
        lock (_pending)
        {
            _pending.GetOrCreateValue(context).UnionWith(ids);
        }
    }

    private void EndOfSave(DbContext? context)
    {
        // Inside a transaction of the caller's, the save commits (or not) with that transaction, not now.
        if (context?.Database.CurrentTransaction is null)
        {
            EndOfTransaction(context);
        }
    }

    private void EndOfTransaction(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        HashSet<long>? ids;
        lock (_pending)
        {
            if (_pending.TryGetValue(context, out ids))
            {
                _pending.Remove(context);
            }
        }

        if (ids is not null)
        {
            cache.Evict(ids);
        }
    }
}

/// <summary>
/// On PostgreSQL, the channel on which a trigger announces every committed change of a user row, whichever node or
/// tool made it (migration 0008): this node evicts those users. While the node is not listening, notifications may
/// be missed: the cache is emptied and unused until it listens again.
/// </summary>
internal sealed class ProfileChanges(ProfileCache cache) : IDatabaseChannel
{
    public string Name => ProfileCache.Channel;

    public Task OnListeningChangedAsync(bool listening, CancellationToken cancellationToken)
    {
        cache.Coherent = listening;
        return Task.CompletedTask;
    }

    public void OnNotification(string payload)
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
}
