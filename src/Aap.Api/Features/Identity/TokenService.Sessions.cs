using Aap.Api.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

/// <summary>A user's sessions as the user sees them (the profile page): one per live refresh family.</summary>
internal sealed partial class TokenService
{
    /// <summary>
    /// The user's live sessions, most recently used first: a refresh family with an unused, unrevoked, unexpired token.
    /// Started is the family's first token, last used its newest one (each renewal issues one). Grouped in the database.
    /// </summary>
    public async Task<IReadOnlyList<SessionSummary>> SessionsAsync(long userId, CancellationToken cancellationToken)
    {
        var now = Now;
        var sessions = await db.Set<RefreshToken>().AsNoTracking()
            .Where(t => t.UserId == userId)
            .GroupBy(t => t.FamilyId)
            .Select(g => new
            {
                Id = g.Key,
                StartedAt = g.Min(t => t.CreatedAt),
                LastUsedAt = g.Max(t => t.CreatedAt),
                Live = g.Count(t => t.RevokedAt == null && t.UsedAt == null && t.ExpiresAt > now),
            })
            .Where(g => g.Live > 0)
            .OrderByDescending(g => g.LastUsedAt)
            .ToListAsync(cancellationToken);
        return [.. sessions.Select(s => new SessionSummary(s.Id, s.StartedAt, s.LastUsedAt))];
    }

    /// <summary>Ends one of the user's own live sessions; false when the user has no such session (ended, or another user's).</summary>
    public async Task<bool> EndOwnSessionAsync(long userId, Guid sessionId, string reason, CancellationToken cancellationToken)
    {
        if (!await db.Set<RefreshToken>().AnyAsync(t => t.UserId == userId && t.FamilyId == sessionId && t.RevokedAt == null, cancellationToken))
        {
            return false;
        }

        await EndSessionAsync(sessionId, userId, reason, cancellationToken);
        return true;
    }

    /// <summary>Ends every live session of the user but <paramref name="keep"/> (the caller's own); how many ended.</summary>
    public async Task<int> EndOtherSessionsAsync(long userId, Guid keep, string reason, CancellationToken cancellationToken)
    {
        var others = await db.Set<RefreshToken>().AsNoTracking()
            .Where(t => t.UserId == userId && t.RevokedAt == null && t.FamilyId != keep)
            .Select(t => t.FamilyId).Distinct().ToListAsync(cancellationToken);
        foreach (var family in others)
        {
            await EndSessionAsync(family, userId, reason, cancellationToken);
        }

        return others.Count;
    }
}

/// <summary>One session of a user: its id (the access tokens' <c>sid</c>), when it started and when it was last renewed.</summary>
[FeatureSurface]
internal sealed record SessionSummary(Guid Id, DateTime StartedAt, DateTime LastUsedAt);
