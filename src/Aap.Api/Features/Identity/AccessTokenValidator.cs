using System.Collections.Concurrent;
using System.Security.Claims;
using Aap.Api.Platform.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Api.Features.Identity;

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
    private readonly ConcurrentDictionary<string, ValidatedToken>.AlternateLookup<ReadOnlySpan<char>> _validatedByText;
    private int _count;

    public AccessTokenValidator(SigningKeys keys, EndedSessions ended, IOptions<AuthOptions> options, TimeProvider clock)
    {
        var auth = options.Value;
        _clock = clock;
        _ended = ended;
        _validatedByText = _validated.GetAlternateLookup<ReadOnlySpan<char>>();
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

    /// <summary>
    /// The caller's identity, made for this request, of <paramref name="authenticationType"/>; null when the token is
    /// not valid now or its session has ended. It carries the claims the service reads (<see cref="Caller.SubjectClaim"/>,
    /// <see cref="Caller.RoleClaim"/> and <see cref="TokenService.SessionClaim"/>), not the token's registered ones
    /// (issuer, audience, times, id), which the validation has already checked: copying those on every request was
    /// most of what a request's authentication allocated.
    /// </summary>
    public async Task<ClaimsIdentity?> ValidateAsync(string token, string authenticationType = "Bearer")
    {
        if (TryRemembered(token, authenticationType, out var remembered))
        {
            return remembered;
        }

        var result = await TokenService.Handler.ValidateTokenAsync(token, _parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken validated)
        {
            return null;
        }

        var validatedToken = new ValidatedToken(
            result.ClaimsIdentity.Claims.Where(c => c.Type is Caller.SubjectClaim or Caller.RoleClaim or TokenService.SessionClaim)
                .Select(c => (c.Type, c.Value)).ToArray(),
            validated.Issuer,
            validated.ValidFrom,
            validated.ValidTo,
            validated.TryGetPayloadValue<string>(TokenService.SessionClaim, out var sid) && Guid.TryParse(sid, out var sessionId) ? sessionId : null,
            long.TryParse(validated.Subject, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var userId) ? userId : 0,
            new DateTimeOffset(validated.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds());
        if (_ended.IsEnded(validatedToken.SessionId, validatedToken.UserId, validatedToken.IssuedAt))
        {
            return null;
        }

        Remember(token, validatedToken);
        return validatedToken.IdentityFor(authenticationType);
    }

    /// <summary>
    /// The outcome of a token validated before, looked up by its text where it stands (the rest of an
    /// <c>Authorization</c> header, say) without making a string of it: true when the token is remembered, with
    /// <paramref name="identity"/> as <see cref="ValidateAsync"/> gives it (null once the token has expired or its
    /// session has ended, and then it is forgotten); false when it has to be validated.
    /// </summary>
    public bool TryRemembered(ReadOnlySpan<char> token, string authenticationType, out ClaimsIdentity? identity)
    {
        if (!_validatedByText.TryGetValue(token, out var known))
        {
            identity = null;
            return false;
        }

        if (IsWithinLifetime(known.NotBefore, known.Expires) && !_ended.IsEnded(known.SessionId, known.UserId, known.IssuedAt))
        {
            identity = known.IdentityFor(authenticationType);
            return true;
        }

        if (_validatedByText.TryRemove(token, out _, out _))
        {
            Interlocked.Decrement(ref _count);
        }

        identity = null;
        return true;
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

    private sealed record ValidatedToken((string Type, string Value)[] Claims, string Issuer, DateTime NotBefore, DateTime Expires, Guid? SessionId, long UserId, long IssuedAt)
    {
        public TokenIdentity IdentityFor(string authenticationType) => new TokenIdentity(authenticationType, Claims, Issuer);
    }

    /// <summary>
    /// A token's identity, made per request, whose claims are looked up through an array. The base class enumerates
    /// its claims through an interface, one enumerator allocated per look-up, and a signed-in request looks its caller's
    /// id and role up several times (the rate limits, the request's log event, the endpoint). Once a claim is added
    /// or removed, every look-up is the base class's.
    /// </summary>
    private sealed class TokenIdentity : ClaimsIdentity
    {
        private readonly Claim[] _tokenClaims;
        private bool _changed;

        public TokenIdentity(string authenticationType, (string Type, string Value)[] claims, string issuer)
            : base(authenticationType, Caller.SubjectClaim, Caller.RoleClaim)
        {
            _tokenClaims = new Claim[claims.Length];
            for (var i = 0; i < claims.Length; i++)
            {
                _tokenClaims[i] = new Claim(claims[i].Type, claims[i].Value, ClaimValueTypes.String, issuer, issuer, this);
                base.AddClaim(_tokenClaims[i]);
            }
        }

        public override Claim? FindFirst(string type)
        {
            ArgumentNullException.ThrowIfNull(type);
            if (_changed)
            {
                return base.FindFirst(type);
            }

            foreach (var claim in _tokenClaims)
            {
                if (string.Equals(claim.Type, type, StringComparison.OrdinalIgnoreCase))
                {
                    return claim;
                }
            }

            return null;
        }

        public override bool HasClaim(string type, string value)
        {
            ArgumentNullException.ThrowIfNull(type);
            ArgumentNullException.ThrowIfNull(value);
            if (_changed)
            {
                return base.HasClaim(type, value);
            }

            foreach (var claim in _tokenClaims)
            {
                if (string.Equals(claim.Type, type, StringComparison.OrdinalIgnoreCase) && string.Equals(claim.Value, value, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        public override void AddClaim(Claim claim)
        {
            _changed = true;
            base.AddClaim(claim);
        }

        public override void AddClaims(IEnumerable<Claim?> claims)
        {
            _changed = true;
            base.AddClaims(claims);
        }

        public override bool TryRemoveClaim(Claim? claim)
        {
            _changed = true;
            return base.TryRemoveClaim(claim);
        }
    }
}
