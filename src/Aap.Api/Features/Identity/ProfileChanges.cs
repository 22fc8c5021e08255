using System.Globalization;
using Aap.Api.Platform.Persistence;

namespace Aap.Api.Features.Identity;

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
