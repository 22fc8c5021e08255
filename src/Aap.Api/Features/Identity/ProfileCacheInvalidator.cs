using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aap.Api.Features.Identity;

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
            cache.EvictEverywhere(ids);
        }
    }
}
