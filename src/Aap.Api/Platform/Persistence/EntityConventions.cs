using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Persistence;

/// <summary>An entity whose <c>created_at</c> / <c>updated_at</c> (UTC) are kept by <see cref="AppDbContext"/>.</summary>
internal interface ITimestamped
{
    DateTime CreatedAt { get; set; }

    DateTime UpdatedAt { get; set; }
}

/// <summary>
/// An entity that is never removed by the API: deleting sets <c>deleted_at</c>, and a named global query filter
/// (<see cref="QueryFilters.SoftDelete"/>) hides it. <c>IgnoreQueryFilters([QueryFilters.SoftDelete])</c> includes
/// deleted rows, for restore and for admin views.
/// </summary>
internal interface ISoftDeletable
{
    DateTime? DeletedAt { get; set; }
}

/// <summary>
/// An entity that concurrent writers could overwrite: <c>version</c> is a concurrency token incremented on every
/// tracked update, so a stale write fails with <see cref="DbUpdateConcurrencyException"/> instead of losing data.
/// Bulk updates (<c>ExecuteUpdateAsync</c>) must increment it themselves.
/// </summary>
internal interface IVersioned
{
    long Version { get; set; }
}

internal static class QueryFilters
{
    public const string SoftDelete = "soft_delete";
}

internal static class EntityConventions
{
    /// <summary>Applies the soft-delete filter and the concurrency token to every entity that opts in.</summary>
    public static void Apply(ModelBuilder modelBuilder)
    {
        foreach (var entityType in modelBuilder.Model.GetEntityTypes())
        {
            var clrType = entityType.ClrType;
            var entity = modelBuilder.Entity(clrType);

            if (typeof(ISoftDeletable).IsAssignableFrom(clrType))
            {
                var e = Expression.Parameter(clrType, "e");
                var notDeleted = Expression.Equal(
                    Expression.Property(e, nameof(ISoftDeletable.DeletedAt)),
                    Expression.Constant(null, typeof(DateTime?)));
                entity.HasQueryFilter(QueryFilters.SoftDelete, Expression.Lambda(notDeleted, e));
            }

            if (typeof(IVersioned).IsAssignableFrom(clrType))
            {
                entity.Property(nameof(IVersioned.Version)).IsConcurrencyToken().HasDefaultValue(1L);
            }
        }
    }

    /// <summary>Stamps timestamps and bumps versions of the tracked entities about to be saved.</summary>
    public static void Stamp(Microsoft.EntityFrameworkCore.ChangeTracking.ChangeTracker changeTracker, DateTime now)
    {
        foreach (var entry in changeTracker.Entries())
        {
            switch (entry.State)
            {
                case EntityState.Added:
                    if (entry.Entity is ITimestamped created)
                    {
                        created.CreatedAt = now;
                        created.UpdatedAt = now;
                    }

                    if (entry.Entity is IVersioned { Version: <= 0 } fresh)
                    {
                        fresh.Version = 1;
                    }

                    break;

                case EntityState.Modified:
                    if (entry.Entity is ITimestamped updated)
                    {
                        updated.UpdatedAt = now;
                        entry.Property(nameof(ITimestamped.CreatedAt)).IsModified = false;
                    }

                    if (entry.Entity is IVersioned versioned)
                    {
                        versioned.Version++;
                    }

                    break;
            }
        }
    }
}
