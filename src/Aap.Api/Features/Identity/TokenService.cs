using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Api.Features.Identity;

/// <summary>A new access token and the refresh token that renews it.</summary>
internal sealed record TokenPair(string AccessToken, string RefreshToken, int ExpiresIn, DateTime RefreshExpiresAt);

internal enum RefreshOutcome
{
    Refreshed,
    Invalid,
    Reused,
}

/// <summary>
/// Issues access tokens (JWT, validated without a database call) and issues, rotates and revokes refresh tokens
/// (random UUIDs stored as SHA-256 hashes). A session is one refresh-token family; its id is the <c>sid</c> of
/// every access token it issues, and ending it records the fact in <c>ended_sessions</c> for every node.
/// </summary>
internal sealed partial class TokenService(
    AppDbContext db,
    SigningKeys keys,
    RuntimeSettings settings,
    EndedSessions ended,
    IOptions<AuthOptions> options,
    TimeProvider clock,
    ILogger<TokenService> logger)
{
    public const string SessionClaim = "sid";

    internal static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Starts a new session (a new refresh family) for a user who has just proved who they are.</summary>
    public async Task<TokenPair> IssueAsync(User user, string dialect, CancellationToken cancellationToken)
    {
        var now = Now;
        var familyDays = await settings.GetAsync(AuthSettings.RefreshFamilyMaxDays, cancellationToken);
        var (refresh, value) = await NewRefreshTokenAsync(user.Id, Guid.NewGuid(), now.AddDays(familyDays), dialect, cancellationToken);
        db.Set<RefreshToken>().Add(refresh);
        await db.SaveChangesAsync(cancellationToken);
        var (access, expiresIn) = await CreateAccessTokenAsync(user, refresh.FamilyId, dialect, cancellationToken);
        return new TokenPair(access, value, expiresIn, refresh.ExpiresAt);
    }

    /// <summary>
    /// An access token alone, for a dialect that has no refresh token (seed 003): its session has an id but no
    /// stored token, and ends when it expires, at a logout that presents it, or when all the user's sessions end.
    /// </summary>
    public Task<(string AccessToken, int ExpiresIn)> IssueAccessOnlyAsync(User user, string dialect, CancellationToken cancellationToken) =>
        CreateAccessTokenAsync(user, Guid.NewGuid(), dialect, cancellationToken);

    /// <summary>
    /// Consumes a refresh token of this dialect and returns its successor, in one transaction: the token is claimed
    /// by one conditional update (of concurrent refreshes exactly one wins), the successor inserted and linked, or
    /// none of it. A token that was already consumed, or revoked, is a replay: its whole family is revoked. A
    /// token of another dialect is simply not valid here.
    /// </summary>
    public async Task<(RefreshOutcome Outcome, TokenPair? Pair)> RefreshAsync(string? presented, string dialect, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return (RefreshOutcome.Invalid, null);
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
                    var (access, expiresIn) = await CreateAccessTokenAsync(user, token.FamilyId, dialect, cancellationToken);
                    pair = new TokenPair(access, value, expiresIn, successor.ExpiresAt);
                }
            }
        }

        if (pair is not null)
        {
            return (RefreshOutcome.Refreshed, pair);
        }

        if (token is null || token.Dialect != dialect)
        {
            return (RefreshOutcome.Invalid, null);
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
                return (RefreshOutcome.Reused, null);
            }

            return (RefreshOutcome.Invalid, null);
        }

        if (token.ExpiresAt > now)
        {
            // Claimed, but its user is gone or deactivated: the session ends with the account.
            await EndSessionAsync(token.FamilyId, token.UserId, "inactive", cancellationToken);
        }

        return (RefreshOutcome.Invalid, null);
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

    private async Task<(string Token, int ExpiresIn)> CreateAccessTokenAsync(User user, Guid sessionId, string dialect, CancellationToken cancellationToken)
    {
        var lifetime = await settings.GetAsync(AuthSettings.AccessTokenLifetimeSeconds, cancellationToken);
        // The seed documents' sample tokens carry user_id and username: clients that decode them read those.
        var seedClaims = dialect == TokenDialects.Seed ? new SeedClaims(user.Id, user.UserName ?? "") : null;
        return (CreateAccessToken(options.Value, keys, user.Id, user.Role, sessionId, Now, lifetime, seedClaims), lifetime);
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
/// Validates access tokens without a database call: pinned algorithm, a signature by a known key id, issuer,
/// audience and lifetime (with at most 5 s of tolerance, on the application's clock), and a session that has not
/// ended (<see cref="EndedSessions"/>, checked on every presentation). A singleton: the
/// validation parameters are built once. A client presents the same token on every request until it expires, so
/// the outcome of a successful validation is remembered by the token's exact text and reused while the token is
/// within its lifetime: parsing and the signature check happen once per token, not once per request. Failures are
/// not remembered, and at most <see cref="Capacity"/> tokens are.
/// </summary>
internal sealed class AccessTokenValidator
{
    public const int Capacity = 10_000;

    private readonly TokenValidationParameters _parameters;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _skew;
    private readonly EndedSessions _ended;
    private readonly ConcurrentDictionary<string, ValidatedToken> _validated = new(StringComparer.Ordinal);
    private int _count;

    public AccessTokenValidator(SigningKeys keys, EndedSessions ended, IOptions<AuthOptions> options, TimeProvider clock)
    {
        var auth = options.Value;
        _clock = clock;
        _ended = ended;
        _skew = TimeSpan.FromSeconds(auth.ClockSkewSeconds);
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = auth.Issuer,
            ValidAudience = auth.Audience,
            IssuerSigningKeys = keys.All,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidTypes = ["JWT"],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = _skew,
            LifetimeValidator = (notBefore, expires, _, _) => IsWithinLifetime(notBefore, expires),
            NameClaimType = Caller.SubjectClaim,
            RoleClaimType = Caller.RoleClaim,
            AuthenticationType = "Bearer",
        };
    }

    /// <summary>The caller's identity, a copy of its own; null when the token is not valid now or its session has ended.</summary>
    public async Task<ClaimsIdentity?> ValidateAsync(string token)
    {
        if (_validated.TryGetValue(token, out var known))
        {
            if (IsWithinLifetime(known.NotBefore, known.Expires) && !_ended.IsEnded(known.SessionId, known.UserId, known.IssuedAt))
            {
                return known.Identity.Clone();
            }

            Forget(token);
            return null;
        }

        var result = await TokenService.Handler.ValidateTokenAsync(token, _parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken validated)
        {
            return null;
        }

        var remembered = new ValidatedToken(
            result.ClaimsIdentity.Clone(),
            validated.ValidFrom,
            validated.ValidTo,
            validated.TryGetPayloadValue<string>(TokenService.SessionClaim, out var sid) && Guid.TryParse(sid, out var sessionId) ? sessionId : null,
            long.TryParse(validated.Subject, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var userId) ? userId : 0,
            new DateTimeOffset(validated.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds());
        if (_ended.IsEnded(remembered.SessionId, remembered.UserId, remembered.IssuedAt))
        {
            return null;
        }

        Remember(token, remembered);
        return result.ClaimsIdentity;
    }

    private bool IsWithinLifetime(DateTime? notBefore, DateTime? expires)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        // A validated token without "nbf" reads it as DateTime.MinValue, which must not have the skew subtracted.
        return expires is { } exp && now < exp + _skew &&
            (notBefore is not { } nbf || nbf == DateTime.MinValue || nbf - _skew <= now);
    }

    private void Remember(string token, ValidatedToken validated)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            // Full: drop the expired, and if that is not enough, everything (each is validated again once).
            foreach (var (key, value) in _validated)
            {
                if (!IsWithinLifetime(value.NotBefore, value.Expires))
                {
                    Forget(key);
                }
            }

            if (Volatile.Read(ref _count) > Capacity)
            {
                _validated.Clear();
                Volatile.Write(ref _count, 1);
            }
        }

        if (!_validated.TryAdd(token, validated))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void Forget(string token)
    {
        if (_validated.TryRemove(token, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private sealed record ValidatedToken(ClaimsIdentity Identity, DateTime NotBefore, DateTime Expires, Guid? SessionId, long UserId, long IssuedAt);
}
