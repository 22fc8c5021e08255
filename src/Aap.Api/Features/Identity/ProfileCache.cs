using System.Security.Claims;
using Aap.Api.Platform;
using Aap.Api.Platform.Caching;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The accounts <c>GET /api/v1/me</c> and seed 004's <c>GET /api/me/</c> answered recently, by user id: the most
/// frequent call of a signed-in client then costs no query. It is kept coherent, not merely short-lived:
/// <list type="bullet">
/// <item>every save of a user through EF evicts it, before the save and once it has committed
/// (<see cref="ProfileCacheInvalidator"/>);</item>
/// <item>a read that raced with an eviction does not store what it read;</item>
/// <item>on PostgreSQL, where several nodes share the database, a trigger announces every committed change of a
/// user row with <c>NOTIFY</c>, and every node evicts it (<see cref="ProfileChanges"/>); a node that is not
/// listening does not use the cache.</item>
/// <item>with Redis configured, the ids a node's saves changed also travel over Redis pub/sub
/// (<see cref="ClusterSignals"/>, topic <see cref="SignalTopic"/>), whatever the database: the trigger stays the path
/// that every change takes (bulk updates, other programs), Redis the one that also reaches nodes sharing no
/// PostgreSQL notifications.</item>
/// </list>
/// Entries also expire after a minute, which bounds how long a change that none of this sees stays unseen: on
/// SQLite, an edit by another program, or a bulk update (<c>ExecuteUpdate</c>) that does not call <see cref="Evict"/>.
/// </summary>
[FeatureSurface]
internal sealed class ProfileCache : IDisposable
{
    /// <summary>
    /// The PostgreSQL notification channel, named by migration 0008's trigger too; the payload is a comma-separated
    /// list of user ids, or <c>*</c> for any.
    /// </summary>
    public const string Channel = "aap_profile_changes";

    /// <summary>The <see cref="ClusterSignals"/> topic of saved users (comma-separated ids).</summary>
    public const string SignalTopic = "profiles";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    // Compiled once per instance, not per process: a compiled query keeps the translation of the first database
    // it ran on, and one process may host applications on different databases (tests do).
    private readonly Func<AppDbContext, long, CancellationToken, Task<Account?>> _findActive =
        EF.CompileAsyncQuery((AppDbContext db, long id, CancellationToken _) => db.Set<User>()
            .AsNoTracking()
            .Where(u => u.Id == id && u.IsActive)
            .Select(u => new Account(u.Id, u.UserName, u.Email, u.Role, u.IsActive, u.CreatedAt, u.UpdatedAt))
            .SingleOrDefault());

    private readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly Lock _gate = new();
    private long _generation;
    private volatile bool _coherent;

    private readonly ClusterSignals _signals;

    public ProfileCache(IOptions<DatabaseOptions> database, ClusterSignals signals)
    {
        // One process owns an SQLite database; PostgreSQL nodes wait until they hear the others.
        _coherent = database.Value.ProviderKind == DatabaseProvider.Sqlite;
        _signals = signals;
        signals.Subscribe(SignalTopic, payload =>
        {
            var ids = ParseIds(payload);
            if (ids is null)
            {
                Clear();
            }
            else
            {
                Evict(ids);
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>The ids of a comma-separated list, or null when it is <c>*</c> or holds anything else (then anyone may have changed).</summary>
    public static List<long>? ParseIds(string payload)
    {
        var ids = new List<long>();
        foreach (var part in payload.Split(','))
        {
            if (!long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                return null;
            }

            ids.Add(id);
        }

        return ids;
    }

    /// <summary>
    /// Evicts these users here and, over Redis when it is configured, on every other node (on PostgreSQL the trigger
    /// announces the committed change as well).
    /// </summary>
    public void EvictEverywhere(IReadOnlyCollection<long> ids)
    {
        Evict(ids);
        _ = _signals.PublishAsync(SignalTopic, string.Join(',', ids), overDatabase: false);
    }

    /// <summary>
    /// The caller's account, what every "me" route answers: <see cref="AuthResponses.AccountGone"/> when it no longer
    /// exists or was deactivated since its token was issued.
    /// </summary>
    public async Task<Result<Account>> FindCallerAsync(ClaimsPrincipal caller, HttpContext context, CancellationToken cancellationToken) =>
        await FindActiveAsync(context.RequestServices, caller.UserId() ?? 0, cancellationToken) is { } account
            ? account
            : AuthResponses.AccountGone;

    /// <summary>
    /// The active account with this id, from memory when it is known there, else from the database through the
    /// request's <see cref="AppDbContext"/> (resolved only then).
    /// </summary>
    public async Task<Account?> FindActiveAsync(IServiceProvider requestServices, long id, CancellationToken cancellationToken) =>
        Known(id) ?? await LoadAsync(requestServices.GetRequiredService<AppDbContext>(), id, cancellationToken);

    /// <summary>The same, for a caller that holds the request's <see cref="AppDbContext"/> already.</summary>
    public async Task<Account?> FindActiveAsync(AppDbContext db, long id, CancellationToken cancellationToken) =>
        Known(id) ?? await LoadAsync(db, id, cancellationToken);

    /// <summary>The account kept in memory for this id, or null (none kept, or the cache is not in use).</summary>
    private Account? Known(long id) => _coherent && _entries.TryGetValue(id, out Account? known) ? known : null;

    /// <summary>The active account with this id from the database, kept unless an eviction came while it was read.</summary>
    private async Task<Account?> LoadAsync(AppDbContext db, long id, CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        var found = await _findActive(db, id, cancellationToken);
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
