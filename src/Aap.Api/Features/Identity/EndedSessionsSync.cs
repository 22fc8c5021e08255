using System.Data.Common;
using System.Globalization;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

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
