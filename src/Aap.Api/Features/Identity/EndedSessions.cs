using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aap.Api.Features.Identity;

/// <summary>
/// A session that was ended (logout, logout everywhere, password change, refresh-token reuse): either one session,
/// by its id (the refresh-token family, the <c>sid</c> of its access tokens), or every session of a user that began
/// before <see cref="EndedAt"/>. Rows are kept as long as an access token can live; every node reads them.
/// </summary>
internal sealed class EndedSession
{
    public long Id { get; set; }

    public Guid? SessionId { get; set; }

    public long? UserId { get; set; }

    public DateTime EndedAt { get; set; }

    public required string Reason { get; set; }
}

internal sealed class EndedSessionConfiguration : IEntityTypeConfiguration<EndedSession>
{
    public void Configure(EntityTypeBuilder<EndedSession> session)
    {
        session.ToTable("ended_sessions");
        session.Property(s => s.Reason).HasMaxLength(50);
        session.HasIndex(s => s.EndedAt);
    }
}

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

/// <summary>
/// Keeps <see cref="EndedSessions"/> current: loads the recent rows of <c>ended_sessions</c> before the node serves
/// (and again each time it starts listening, to catch up on what it missed), and on PostgreSQL hears each ended
/// session that any node commits (channel <see cref="Channel"/>, migration 0009's trigger; payload
/// <c>session_id,user_id,ended_at in Unix ms</c>).
/// </summary>
internal sealed partial class EndedSessionsSync(
    EndedSessions ended, IServiceScopeFactory scopes, TimeProvider clock, ILogger<EndedSessionsSync> logger) : IDatabaseChannel, IHostedService
{
    public const string Channel = "aap_sessions_ended";

    public string Name => Channel;

    public Task StartAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task OnListeningChangedAsync(bool listening, CancellationToken cancellationToken) =>
        listening ? LoadAsync(cancellationToken) : Task.CompletedTask;

    public void OnNotification(string payload)
    {
        var parts = payload.Split(',');
        if (parts.Length == 3 &&
            long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var endedAtMs))
        {
            Guid? sessionId = Guid.TryParse(parts[0], out var sid) ? sid : null;
            long? userId = long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;
            ended.Add(sessionId, userId, endedAtMs);
        }
        else
        {
            LogUnreadable(logger, payload);
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var since = clock.GetUtcNow().UtcDateTime - EndedSessions.Horizon;
            var rows = await db.Set<EndedSession>().AsNoTracking().Where(s => s.EndedAt > since)
                .Select(s => new { s.SessionId, s.UserId, s.EndedAt }).ToListAsync(cancellationToken);
            foreach (var row in rows)
            {
                ended.Add(row.SessionId, row.UserId, new DateTimeOffset(row.EndedAt).ToUnixTimeMilliseconds());
            }
        }
        catch (DbException error)
        {
            // A database that is not migrated yet: this node cannot know which sessions ended, and says so loudly.
            LogLoadFailed(logger, error);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored an ended-session notification that is not ours: {Payload}")]
    private static partial void LogUnreadable(ILogger logger, string payload);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not read the ended sessions; access tokens of sessions ended elsewhere are accepted until they expire")]
    private static partial void LogLoadFailed(ILogger logger, Exception error);
}
