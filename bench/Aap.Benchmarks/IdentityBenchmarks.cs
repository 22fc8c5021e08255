using System.Security.Claims;
using System.Security.Cryptography;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Configuration;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

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
/// What every request with a bearer token pays before its endpoint runs, with AAP's own
/// <c>AccessTokenValidator</c>: the first presentation of a token (parsing, HS256 signature, claims; each operation
/// presents a token the validator has not seen) and a later one (the remembered validation, with its lifetime
/// checked again).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AccessTokenBenchmarks
{
    // More distinct tokens than the validator remembers, so that none of them is still remembered when it comes round.
    private const int Tokens = 2 * AccessTokenValidator.Capacity + 1;

    private AccessTokenValidator _validator = null!;
    private string[] _tokens = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var auth = Options.Create(new AuthOptions
        {
            SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            SigningKeyId = "primary",
        });
        var keys = new SigningKeys(auth, new DataDirectory(Path.GetTempPath()));
        // Ended sessions are consulted on every presentation; a few thousand of them, as a busy day leaves behind.
        var ended = new EndedSessions(TimeProvider.System);
        var endedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < 5_000; i++)
        {
            ended.Add(Guid.NewGuid(), i % 10 == 0 ? Tokens + i : null, endedAt);
        }

        _validator = new AccessTokenValidator(keys, ended, auth, TimeProvider.System);
        var now = DateTime.UtcNow;
        _tokens = Enumerable.Range(1, Tokens)
            .Select(userId => TokenService.CreateAccessToken(auth.Value, keys, userId, "User", Guid.NewGuid(), now, lifetimeSeconds: 3600))
            .ToArray();
    }

    [Benchmark(Baseline = true)]
    public async Task<ClaimsIdentity> FirstPresentation()
    {
        var token = _tokens[_next];
        _next = (_next + 1) % Tokens;
        return await _validator.ValidateAsync(token) ?? throw new InvalidOperationException("The benchmark's token did not validate.");
    }

    [Benchmark]
    public async Task<ClaimsIdentity> LaterPresentation() =>
        await _validator.ValidateAsync(_tokens[0]) ?? throw new InvalidOperationException("The benchmark's token did not validate.");
}
