using Aap.Api.Platform.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity.Jobs;

/// <summary>
/// Deletes refresh tokens that stopped working more than <c>Jobs:Maintenance:RefreshTokenRetentionDays</c> ago:
/// expired, or revoked. The retention keeps recently used and revoked tokens, so that a replayed token is still
/// recognised as a replay (and its family ended) for that long.
/// </summary>
internal sealed class PurgeRefreshTokensJob(Platform.Persistence.AppDbContext db, TimeProvider clock, IOptions<JobsOptions> options) : IScheduledJob
{
    public const string Name = "refresh-token-purge";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow().UtcDateTime.AddDays(-options.Value.Maintenance.RefreshTokenRetentionDays);
        return await db.Set<RefreshToken>()
            .Where(t => t.ExpiresAt < before || t.FamilyExpiresAt < before || (t.RevokedAt != null && t.RevokedAt < before))
            .ExecuteDeleteAsync(cancellationToken);
    }
}
