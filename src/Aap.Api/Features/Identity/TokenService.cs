using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform.Persistence;
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
/// Issues and validates access tokens (JWT, validated without a database call) and issues, rotates and revokes
/// refresh tokens (random UUIDs stored as SHA-256 hashes).
/// </summary>
internal sealed partial class TokenService(
    AppDbContext db,
    SigningKeys keys,
    RuntimeSettings settings,
    IOptions<AuthOptions> options,
    TimeProvider clock,
    ILogger<TokenService> logger)
{
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";

    internal static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Starts a new session (a new refresh family) for a user who has just proved who they are.</summary>
    public async Task<TokenPair> IssueAsync(User user, CancellationToken cancellationToken)
    {
        var now = Now;
        var familyDays = await settings.GetAsync(AuthSettings.RefreshFamilyMaxDays, cancellationToken);
        var (refresh, value) = await NewRefreshTokenAsync(user.Id, Guid.NewGuid(), now.AddDays(familyDays), cancellationToken);
        db.RefreshTokens.Add(refresh);
        await db.SaveChangesAsync(cancellationToken);
        var (access, expiresIn) = await CreateAccessTokenAsync(user, cancellationToken);
        return new TokenPair(access, value, expiresIn, refresh.ExpiresAt);
    }

    /// <summary>
    /// Consumes a refresh token and returns its successor. The token is claimed by one conditional update, so of
    /// concurrent refreshes exactly one wins. A token that was already consumed is a replay: its whole family is
    /// revoked.
    /// </summary>
    public async Task<(RefreshOutcome Outcome, TokenPair? Pair)> RefreshAsync(string? presented, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return (RefreshOutcome.Invalid, null);
        }

        var now = Now;
        var claimed = await db.RefreshTokens
            .Where(t => t.TokenHash == hash && t.UsedAt == null && t.RevokedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken);
        var token = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (claimed == 0 || token is null)
        {
            if (token is { UsedAt: not null })
            {
                await RevokeFamilyAsync(token.FamilyId, "reuse", cancellationToken);
                LogReuse(token.UserId, token.FamilyId);
                return (RefreshOutcome.Reused, null);
            }

            return (RefreshOutcome.Invalid, null);
        }

        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == token.UserId, cancellationToken);
        if (user is not { IsActive: true })
        {
            await RevokeFamilyAsync(token.FamilyId, "inactive", cancellationToken);
            return (RefreshOutcome.Invalid, null);
        }

        var (successor, value) = await NewRefreshTokenAsync(user.Id, token.FamilyId, token.FamilyExpiresAt, cancellationToken);
        db.RefreshTokens.Add(successor);
        await db.SaveChangesAsync(cancellationToken);
        await db.RefreshTokens.Where(t => t.Id == token.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ReplacedById, successor.Id), cancellationToken);

        var (access, expiresIn) = await CreateAccessTokenAsync(user, cancellationToken);
        return (RefreshOutcome.Refreshed, new TokenPair(access, value, expiresIn, successor.ExpiresAt));
    }

    /// <summary>An access token for a live refresh token, which stays valid (the seed's non-rotating refresh).</summary>
    public async Task<(string AccessToken, int ExpiresIn)?> AccessFromRefreshAsync(string? presented, CancellationToken cancellationToken)
    {
        var token = await FindLiveAsync(presented, cancellationToken);
        if (token is null)
        {
            return null;
        }

        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == token.UserId && u.IsActive, cancellationToken);
        return user is null ? null : await CreateAccessTokenAsync(user, cancellationToken);
    }

    /// <summary>The user a refresh token belongs to, when it is live.</summary>
    public async Task<long?> OwnerAsync(string? presented, CancellationToken cancellationToken) =>
        (await FindLiveAsync(presented, cancellationToken))?.UserId;

    /// <summary>Ends the session a refresh token belongs to. False when the token is unknown.</summary>
    public async Task<bool> RevokeSessionAsync(string? presented, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return false;
        }

        var token = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null)
        {
            return false;
        }

        await RevokeFamilyAsync(token.FamilyId, "logout", cancellationToken);
        return true;
    }

    /// <summary>Ends every session of a user (logout everywhere, password change, deactivation).</summary>
    public Task<int> RevokeAllAsync(long userId, string reason, CancellationToken cancellationToken)
    {
        var now = Now;
        return db.RefreshTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.RevokedReason, reason), cancellationToken);
    }

    private async Task<(string Token, int ExpiresIn)> CreateAccessTokenAsync(User user, CancellationToken cancellationToken)
    {
        var lifetime = await settings.GetAsync(AuthSettings.AccessTokenLifetimeSeconds, cancellationToken);
        return (CreateAccessToken(options.Value, keys, user.Id, user.Role, Now, lifetime), lifetime);
    }

    /// <summary>An access token of AAP's shape: issuer, audience, <c>iat</c>/<c>nbf</c>/<c>exp</c>, <c>sub</c>, <c>role</c>, <c>jti</c>.</summary>
    internal static string CreateAccessToken(AuthOptions auth, SigningKeys keys, long userId, string role, DateTime now, int lifetimeSeconds) =>
        Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(lifetimeSeconds),
            SigningCredentials = keys.SigningCredentials,
            Claims = new Dictionary<string, object>
            {
                [SubjectClaim] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [RoleClaim] = role,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        });

    private async Task<(RefreshToken Token, string Value)> NewRefreshTokenAsync(long userId, Guid familyId, DateTime familyExpiresAt, CancellationToken cancellationToken)
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
        }, value);
    }

    private async Task<RefreshToken?> FindLiveAsync(string? presented, CancellationToken cancellationToken)
    {
        if (Hash(presented) is not { } hash)
        {
            return null;
        }

        var now = Now;
        return await db.RefreshTokens.AsNoTracking()
            .SingleOrDefaultAsync(t => t.TokenHash == hash && t.UsedAt == null && t.RevokedAt == null && t.ExpiresAt > now, cancellationToken);
    }

    private Task<int> RevokeFamilyAsync(Guid familyId, string reason, CancellationToken cancellationToken)
    {
        var now = Now;
        return db.RefreshTokens.Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.RevokedReason, reason), cancellationToken);
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Refresh tokens are UUIDs; anything else is not one of ours and is never looked up.</summary>
    private static string? Hash(string? presented) =>
        Guid.TryParseExact(presented?.Trim(), "D", out var value)
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value.ToString("D"))))
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Security: a consumed refresh token of user {UserId} was presented again; family {FamilyId} revoked")]
    private partial void LogReuse(long userId, Guid familyId);
}

/// <summary>
/// Validates access tokens without a database call: pinned algorithm, a signature by a known key id, issuer,
/// audience and lifetime (with at most 5 s of tolerance, on the application's clock). A singleton: the
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
    private readonly ConcurrentDictionary<string, ValidatedToken> _validated = new(StringComparer.Ordinal);
    private int _count;

    public AccessTokenValidator(SigningKeys keys, IOptions<AuthOptions> options, TimeProvider clock)
    {
        var auth = options.Value;
        _clock = clock;
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
            NameClaimType = TokenService.SubjectClaim,
            RoleClaimType = TokenService.RoleClaim,
            AuthenticationType = "Bearer",
        };
    }

    /// <summary>The caller's identity, a copy of its own; null when the token is not valid now.</summary>
    public async Task<ClaimsIdentity?> ValidateAsync(string token)
    {
        if (_validated.TryGetValue(token, out var known))
        {
            if (IsWithinLifetime(known.NotBefore, known.Expires))
            {
                return known.Identity.Clone();
            }

            Forget(token);
            return null;
        }

        var result = await TokenService.Handler.ValidateTokenAsync(token, _parameters);
        if (!result.IsValid)
        {
            return null;
        }

        var validated = result.SecurityToken;
        Remember(token, new ValidatedToken(result.ClaimsIdentity.Clone(), validated.ValidFrom, validated.ValidTo));
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

    private sealed record ValidatedToken(ClaimsIdentity Identity, DateTime NotBefore, DateTime Expires);
}
