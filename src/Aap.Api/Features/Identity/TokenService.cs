using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Api.Features.Identity;

/// <summary>
/// Issues access tokens (JWT, validated without a database call) and issues, rotates and revokes refresh tokens
/// (random UUIDs stored as SHA-256 hashes). A session is one refresh-token family; its id is the <c>sid</c> of
/// every access token it issues, and ending it records the fact in <c>ended_sessions</c> for every node.
/// </summary>
[FeatureSurface]
internal sealed partial class TokenService(
    AppDbContext db,
    SigningKeys keys,
    RuntimeSettings settings,
    EndedSessions ended,
    IOptions<AuthOptions> options,
    TimeProvider clock,
    IdentityMetrics metrics,
    ILogger<TokenService> logger)
{
    public const string SessionClaim = "sid";

    internal static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Starts a new session (a new refresh family) for an account that has just proved who it is.</summary>
    public async Task<TokenPair> IssueAsync(Account user, string dialect, CancellationToken cancellationToken)
    {
        var now = Now;
        var familyDays = await settings.GetAsync(AuthSettings.RefreshFamilyMaxDays, cancellationToken);
        var (refresh, value) = await NewRefreshTokenAsync(user.Id, Guid.NewGuid(), now.AddDays(familyDays), dialect, cancellationToken);
        db.Set<RefreshToken>().Add(refresh);
        await db.SaveChangesAsync(cancellationToken);
        var (access, expiresIn) = await CreateAccessTokenAsync(user.Id, user.Role, user.UserName, refresh.FamilyId, dialect, cancellationToken);
        return new TokenPair(access, value, expiresIn, refresh.ExpiresAt);
    }

    /// <summary>
    /// An access token alone, for a dialect that has no refresh token (seed 003): its session has an id but no
    /// stored token, and ends when it expires, at a logout that presents it, or when all the user's sessions end.
    /// </summary>
    public Task<(string AccessToken, int ExpiresIn)> IssueAccessOnlyAsync(Account user, string dialect, CancellationToken cancellationToken) =>
        CreateAccessTokenAsync(user.Id, user.Role, user.UserName, Guid.NewGuid(), dialect, cancellationToken);

    /// <summary>
    /// Consumes a refresh token of this dialect and returns its successor, in one transaction: the token is claimed
    /// by one conditional update (of concurrent refreshes exactly one wins), the successor inserted and linked, or
    /// none of it: a failure in between leaves the presented token as it was, so the client's retry is not taken for
    /// a replay. A token that was already consumed is a replay: its whole family is revoked
    /// (<see cref="AuthResponses.ReusedRefresh"/>). A revoked or expired token, or one of another dialect, is simply
    /// not valid here (<see cref="AuthResponses.InvalidRefresh"/>).
    /// </summary>
    public async Task<Result<TokenPair>> RefreshAsync(string? presented, string dialect, CancellationToken cancellationToken)
    {
        var rotated = await RotateAsync(presented, dialect, reuseGrace: null, cancellationToken);
        return rotated.Succeeded ? rotated.Value.Pair! : rotated.Failure;
    }

    /// <summary>
    /// The pages' transparent renewal (a page request whose access cookie is missing or expired): rotates the refresh
    /// token of the API's dialect like <see cref="RefreshAsync"/>, with one difference. A page and the requests it
    /// starts (another tab, htmx) present the same refresh cookie at once, and all but one find it consumed: a token
    /// consumed at most <c>Auth:BrowserRenewReuseSeconds</c> ago whose session is live yields a new access token
    /// only (<see cref="BrowserRenewal.Pair"/> is null: the winner's response carries the new refresh token), with no
    /// reuse alarm. Older replays still end the session.
    /// </summary>
    public async Task<Result<BrowserRenewal>> RenewBrowserSessionAsync(string? presented, CancellationToken cancellationToken) =>
        await RotateAsync(presented, TokenDialects.V1, TimeSpan.FromSeconds(options.Value.BrowserRenewReuseSeconds), cancellationToken);

    private async Task<Result<BrowserRenewal>> RotateAsync(string? presented, string dialect, TimeSpan? reuseGrace, CancellationToken cancellationToken)
    {
        var rotated = await TryRotateAsync(presented, dialect, reuseGrace, cancellationToken);
        metrics.Refreshed(rotated.Succeeded ? "rotated" : ReferenceEquals(rotated.Failure, AuthResponses.ReusedRefresh) ? "reused" : "invalid");
        return rotated;
    }

    private async Task<Result<BrowserRenewal>> TryRotateAsync(string? presented, string dialect, TimeSpan? reuseGrace, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return AuthResponses.InvalidRefresh;
        }

        var now = Now;
        RefreshToken? token;
        TokenPair? pair = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var claimed = await db.Set<RefreshToken>()
                .Where(t => t.TokenHash == hash && t.Dialect == dialect && t.UsedAt == null && t.RevokedAt == null && t.ExpiresAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken);
            token = await db.Set<RefreshToken>().AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
            if (claimed == 1 && token is not null)
            {
                var user = await db.Set<User>().AsNoTracking().SingleOrDefaultAsync(u => u.Id == token.UserId, cancellationToken);
                if (user is { IsActive: true })
                {
                    var (successor, value) = await NewRefreshTokenAsync(user.Id, token.FamilyId, token.FamilyExpiresAt, dialect, cancellationToken);
                    db.Set<RefreshToken>().Add(successor);
                    await db.SaveChangesAsync(cancellationToken);
                    await db.Set<RefreshToken>().Where(t => t.Id == token.Id)
                        .ExecuteUpdateAsync(s => s.SetProperty(t => t.ReplacedById, successor.Id), cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    var (access, expiresIn) = await CreateAccessTokenAsync(user.Id, user.Role, user.UserName, token.FamilyId, dialect, cancellationToken);
                    pair = new TokenPair(access, value, expiresIn, successor.ExpiresAt);
                }
            }
        }

        if (pair is not null)
        {
            return new BrowserRenewal(pair.AccessToken, pair.ExpiresIn, pair);
        }

        if (token is null || token.Dialect != dialect)
        {
            return AuthResponses.InvalidRefresh;
        }

        if (reuseGrace is { } grace && token.UsedAt is { } usedAt && token.RevokedAt is null && now - usedAt <= grace &&
            await db.Set<RefreshToken>().AnyAsync(t => t.FamilyId == token.FamilyId && t.RevokedAt == null && t.UsedAt == null && t.ExpiresAt > now, cancellationToken) &&
            await db.Set<User>().AsNoTracking().SingleOrDefaultAsync(u => u.Id == token.UserId && u.IsActive, cancellationToken) is { } owner)
        {
            var (access, expiresIn) = await CreateAccessTokenAsync(owner.Id, owner.Role, owner.UserName, token.FamilyId, dialect, cancellationToken);
            return new BrowserRenewal(access, expiresIn, null);
        }

        if (token.UsedAt is not null || token.RevokedAt is not null)
        {
            // A revoked token's family has usually ended with it; a successor that raced the revocation has not.
            if (await db.Set<RefreshToken>().AnyAsync(t => t.FamilyId == token.FamilyId && t.RevokedAt == null, cancellationToken))
            {
                await EndSessionAsync(token.FamilyId, token.UserId, "reuse", cancellationToken);
            }

            if (token.UsedAt is not null)
            {
                LogReuse(token.UserId, token.FamilyId);
                return AuthResponses.ReusedRefresh;
            }

            return AuthResponses.InvalidRefresh;
        }

        if (token.ExpiresAt > now)
        {
            // Claimed, but its user is gone or deactivated: the session ends with the account.
            await EndSessionAsync(token.FamilyId, token.UserId, "inactive", cancellationToken);
        }

        return AuthResponses.InvalidRefresh;
    }

    /// <summary>The user a refresh token belongs to, when it is live.</summary>
    public async Task<long?> OwnerAsync(string? presented, CancellationToken cancellationToken) =>
        (await FindLiveAsync(presented, cancellationToken))?.UserId;

    /// <summary>
    /// Ends the session a refresh token belongs to. False when the token is unknown or was revoked already (its
    /// session has ended: there is nothing to log out of).
    /// </summary>
    public async Task<bool> EndSessionAsync(string? presented, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return false;
        }

        var token = await db.Set<RefreshToken>().AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null || token.RevokedAt is not null)
        {
            return false;
        }

        await EndSessionAsync(token.FamilyId, token.UserId, "logout", cancellationToken);
        return true;
    }

    /// <summary>Ends one session by its id (the <c>sid</c> of an access token): its refresh tokens and its access tokens.</summary>
    public async Task EndSessionAsync(Guid sessionId, long userId, string reason, CancellationToken cancellationToken)
    {
        var now = Now;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.Set<RefreshToken>().Where(t => t.FamilyId == sessionId && t.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.RevokedReason, reason), cancellationToken);
            db.Set<EndedSession>().Add(new EndedSession { SessionId = sessionId, UserId = null, EndedAt = now, Reason = reason });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        ended.Add(sessionId, null, new DateTimeOffset(now).ToUnixTimeMilliseconds());
        LogSessionEnded(userId, sessionId, reason);
    }

    /// <summary>
    /// Ends every session of a user (logout everywhere, password change, deactivation): each live refresh family,
    /// and every access token issued before now, including those of sessions without a refresh token. Returns the
    /// number of sessions that had a live refresh token.
    /// </summary>
    public async Task<int> EndAllSessionsAsync(long userId, string reason, CancellationToken cancellationToken)
    {
        var now = Now;
        List<Guid> families;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            families = await db.Set<RefreshToken>().Where(t => t.UserId == userId && t.RevokedAt == null)
                .Select(t => t.FamilyId).Distinct().ToListAsync(cancellationToken);
            await db.Set<RefreshToken>().Where(t => t.UserId == userId && t.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.RevokedReason, reason), cancellationToken);
            db.Set<EndedSession>().Add(new EndedSession { SessionId = null, UserId = userId, EndedAt = now, Reason = reason });
            db.Set<EndedSession>().AddRange(families.Select(f => new EndedSession { SessionId = f, UserId = null, EndedAt = now, Reason = reason }));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var endedAt = new DateTimeOffset(now).ToUnixTimeMilliseconds();
        ended.Add(null, userId, endedAt);
        foreach (var family in families)
        {
            ended.Add(family, null, endedAt);
        }

        LogAllSessionsEnded(userId, families.Count, reason);
        return families.Count;
    }

    private async Task<(string Token, int ExpiresIn)> CreateAccessTokenAsync(
        long userId, string role, string? userName, Guid sessionId, string dialect, CancellationToken cancellationToken)
    {
        var lifetime = await settings.GetAsync(AuthSettings.AccessTokenLifetimeSeconds, cancellationToken);
        // The seed documents' sample tokens carry user_id and username: clients that decode them read those.
        var seedClaims = dialect == TokenDialects.Seed ? new SeedClaims(userId, userName ?? "") : null;
        return (CreateAccessToken(options.Value, keys, userId, role, sessionId, Now, lifetime, seedClaims), lifetime);
    }

    /// <summary>The claims the seed dialects' tokens add to AAP's own.</summary>
    internal sealed record SeedClaims(long UserId, string UserName);

    /// <summary>
    /// An access token of AAP's shape: issuer, audience, <c>iat</c>/<c>nbf</c>/<c>exp</c>, <c>sub</c>, <c>role</c>,
    /// <c>sid</c> (the session), <c>jti</c>; with <paramref name="seed"/>, also <c>user_id</c> and <c>username</c>.
    /// </summary>
    internal static string CreateAccessToken(
        AuthOptions auth, SigningKeys keys, long userId, string role, Guid sessionId, DateTime now, int lifetimeSeconds, SeedClaims? seed = null)
    {
        var claims = new Dictionary<string, object>
        {
            [Caller.SubjectClaim] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [Caller.RoleClaim] = role,
            [SessionClaim] = sessionId.ToString("D"),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (seed is not null)
        {
            claims["user_id"] = seed.UserId;
            claims["username"] = seed.UserName;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(lifetimeSeconds),
            SigningCredentials = keys.SigningCredentials,
            Claims = claims,
        });
    }

    private async Task<(RefreshToken Token, string Value)> NewRefreshTokenAsync(
        long userId, Guid familyId, DateTime familyExpiresAt, string dialect, CancellationToken cancellationToken)
    {
        var now = Now;
        var days = await settings.GetAsync(AuthSettings.RefreshTokenLifetimeDays, cancellationToken);
        var value = Guid.NewGuid().ToString("D");
        var expires = now.AddDays(days);
        return (new RefreshToken
        {
            UserId = userId,
            FamilyId = familyId,
            TokenHash = Hash(value)!,
            CreatedAt = now,
            ExpiresAt = expires < familyExpiresAt ? expires : familyExpiresAt,
            FamilyExpiresAt = familyExpiresAt,
            Dialect = dialect,
        }, value);
    }

    private async Task<RefreshToken?> FindLiveAsync(string? presented, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return null;
        }

        var now = Now;
        return await db.Set<RefreshToken>().AsNoTracking()
            .SingleOrDefaultAsync(t => t.TokenHash == hash && t.UsedAt == null && t.RevokedAt == null && t.ExpiresAt > now, cancellationToken);
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Refresh tokens are UUIDs; anything else is not one of ours and is never looked up.</summary>
    private static string? Hash(string? presented) =>
        Guid.TryParseExact(presented?.Trim(), "D", out var value)
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value.ToString("D"))))
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Security: a consumed refresh token of user {UserId} was presented again; family {FamilyId} revoked")]
    private partial void LogReuse(long userId, Guid familyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of user {UserId} ended ({Reason})")]
    private partial void LogSessionEnded(long userId, Guid sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Every session of user {UserId} ended ({Reason}); {Sessions} had a refresh token")]
    private partial void LogAllSessionsEnded(long userId, int sessions, string reason);
}

/// <summary>
/// What a page request's renewal gives: always a new access token; <see cref="Pair"/> (with the successor refresh
/// token) only when this request rotated the refresh token, not when it arrived within the reuse interval.
/// </summary>
[FeatureSurface]
internal sealed record BrowserRenewal(string AccessToken, int ExpiresIn, TokenPair? Pair);
