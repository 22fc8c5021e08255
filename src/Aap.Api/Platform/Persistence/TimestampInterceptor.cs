using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Stamps <see cref="ITimestamped"/> times and bumps <see cref="IVersioned"/> versions of the tracked entities
/// just before they are saved, with the time of the application's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class TimestampInterceptor(TimeProvider clock) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Stamp(eventData);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Stamp(eventData);
        return ValueTask.FromResult(result);
    }

    private void Stamp(DbContextEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            EntityConventions.Stamp(context.ChangeTracker, clock.GetUtcNow().UtcDateTime);
        }
    }
}
