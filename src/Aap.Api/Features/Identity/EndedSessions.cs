using System.Collections.Concurrent;

namespace Aap.Api.Features.Identity;

/// <summary>
/// This node's set of ended sessions, consulted on every request that presents an access token, without a
/// database call: an access token is refused when its session (<c>sid</c>) was ended, or when it was issued
/// (<c>iat</c>, whole seconds) before a moment all its user's sessions were ended. Entries are dropped once no
/// access token they could concern can still be valid (<see cref="Horizon"/>). Filled from <c>ended_sessions</c> at
/// start, by this node as it ends sessions, and on PostgreSQL by the notifications of every node
/// (<see cref="EndedSessionsSync"/>).
/// </summary>
internal sealed class EndedSessions(TimeProvider clock)
{
    /// <summary>The longest an access token can be valid: the largest lifetime setting and the clock tolerance.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(AuthSettings.AccessTokenLifetimeSeconds.Max + 5);

    private readonly ConcurrentDictionary<Guid, long> _sessions = new();
    private readonly ConcurrentDictionary<long, long> _users = new();
    private long _lastPruneMs;

    public bool IsEnded(Guid? sessionId, long userId, long issuedAtSeconds) =>
        (sessionId is { } sid && _sessions.ContainsKey(sid)) ||
        (_users.TryGetValue(userId, out var endedBefore) && issuedAtSeconds < endedBefore);

    public void Add(Guid? sessionId, long? userId, long endedAtMs)
    {
        if (sessionId is { } sid)
        {
            _sessions[sid] = endedAtMs;
        }

        if (userId is { } uid)
        {
            // Tokens issued in the second of the end itself stay valid: the new session a password change opens
            // at once is one of them.
            var endedSecond = endedAtMs / 1000;
            _users.AddOrUpdate(uid, endedSecond, (_, known) => Math.Max(known, endedSecond));
        }

        Prune();
    }

    private void Prune()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var last = Interlocked.Read(ref _lastPruneMs);
        if (now - last < 60_000 || Interlocked.CompareExchange(ref _lastPruneMs, now, last) != last)
        {
            return;
        }

        var oldest = now - (long)Horizon.TotalMilliseconds;
        foreach (var (sid, ended) in _sessions)
        {
            if (ended < oldest)
            {
                _sessions.TryRemove(sid, out _);
            }
        }

        foreach (var (uid, endedSecond) in _users)
        {
            if (endedSecond * 1000 < oldest)
            {
                _users.TryRemove(uid, out _);
            }
        }
    }
}
