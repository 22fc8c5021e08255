namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// A stricter limit a feature puts on some of its routes (<c>RequireRateLimiting(Name)</c>): so many requests per
/// client address and window, in a bucket of its own. It is counted with the caller's general limit by
/// <see cref="RouteRateLimiter"/> (one round trip, shared through Redis when configured), listed in the route's
/// <c>RateLimit-Policy</c> and in the OpenAPI document, and a refusal's problem says <paramref name="Refusal"/>.
/// </summary>
internal sealed record EndpointRateLimit(string Name, int PermitLimit, int WindowSeconds, string Refusal);

internal static class EndpointRateLimitSetup
{
    /// <summary>Declares <paramref name="limit"/>; routes opt in with <c>RequireRateLimiting(limit.Name)</c>.</summary>
    public static IServiceCollection AddEndpointRateLimit(this IServiceCollection services, EndpointRateLimit limit)
    {
        // Counted with the caller's windows by RouteRateLimiter, in the same round trip; the route names it with
        // ASP.NET Core's RequireRateLimiting (its metadata only: ASP.NET Core's own rate-limiting middleware is not used).
        return services.AddSingleton(limit);
    }
}
