using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Benchmarks;

/// <summary>
/// What signing in costs: one password hash (registration, password change) and one verification (login, Basic
/// credentials), with the hasher AAP configures (PBKDF2 via ASP.NET Core Identity's V3 format, 210,000
/// iterations). Each call takes tens of milliseconds on purpose, so a few iterations are enough.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 10)]
[MedianColumn]
public class PasswordHashBenchmarks
{
    private const string Password = "correct horse battery staple";

    private readonly PasswordHasher<object> _hasher = new(Options.Create(new PasswordHasherOptions { IterationCount = 210_000 }));
    private readonly object _user = new();
    private string _hash = "";

    [GlobalSetup]
    public void Setup() => _hash = _hasher.HashPassword(_user, Password);

    [Benchmark]
    public string Hash() => _hasher.HashPassword(_user, Password);

    [Benchmark]
    public PasswordVerificationResult Verify() => _hasher.VerifyHashedPassword(_user, _hash, Password);
}

/// <summary>
/// What every request with a bearer token pays before its endpoint runs: validating one access token (HS256) as
/// AAP's <c>AccessTokenValidator</c> does, with the same validation parameters, built once.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AccessTokenBenchmarks
{
    private const string Issuer = "aap";
    private const string Audience = "aap-api";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private TokenValidationParameters _parameters = new();
    private string _token = "";

    [GlobalSetup]
    public void Setup()
    {
        var key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(48)) { KeyId = "primary" };
        var skew = TimeSpan.FromSeconds(5);
        var now = DateTime.UtcNow;
        _token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "42",
                ["role"] = "User",
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        });
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = [key],
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidTypes = ["JWT"],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = skew,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var utcNow = TimeProvider.System.GetUtcNow().UtcDateTime;
                return expires is { } exp && utcNow < exp + skew && (notBefore is not { } nbf || nbf - skew <= utcNow);
            },
            NameClaimType = "sub",
            RoleClaimType = "role",
            AuthenticationType = "Bearer",
        };
    }

    [Benchmark]
    public async Task<bool> ValidateAccessToken()
    {
        var result = await _handler.ValidateTokenAsync(_token, _parameters);
        return result.IsValid ? true : throw new InvalidOperationException("The benchmark's token did not validate.", result.Exception);
    }
}
