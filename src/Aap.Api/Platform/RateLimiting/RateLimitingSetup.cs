using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// Rate limits on every route (<see cref="RouteRateLimiter"/>) and the stricter limits features put on their own routes
/// (<see cref="EndpointRateLimit"/>), counted together by <see cref="RateLimitGate"/>. Every refusal is a 429 problem
/// naming the policy, with <c>Retry-After</c>, and is counted in <c>aap.rate_limit.rejections</c>. The middleware runs
/// where the caller is known (after authentication).
/// </summary>
internal static class RateLimitingSetup
{
    public static IServiceCollection AddAapRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WindowCounters>();
        services.AddSingleton<RouteRateLimiter>();
        services.AddSingleton<RateLimitMetrics>();
        // Every 429 problem names its policy, whoever wrote it.
        services.AddOptions<ProblemDetailsOptions>().PostConfigure(problems =>
        {
            var customize = problems.CustomizeProblemDetails;
            problems.CustomizeProblemDetails = context =>
            {
                customize?.Invoke(context);
                if (context.ProblemDetails.Status == StatusCodes.Status429TooManyRequests && context.HttpContext.Items[RouteRateLimiter.PolicyItem] is string policy)
                {
                    context.ProblemDetails.Extensions["policy"] = policy;
                }
            };
        });
        return services;
    }

    /// <summary>Counts every request in its windows (<see cref="RateLimitGate"/>); after authentication, so that the caller is known.</summary>
    public static IApplicationBuilder UseAapRateLimiting(this IApplicationBuilder app) => app.UseMiddleware<RateLimitGate>();
}

/// <summary>The meter <c>aap.rate_limit</c>: requests refused by a rate limit, by policy.</summary>
internal sealed class RateLimitMetrics
{
    public const string MeterName = "aap.rate_limit";

    private readonly Counter<long> _rejections;

    public RateLimitMetrics(IMeterFactory meters) =>
        _rejections = meters.Create(MeterName).CreateCounter<long>("aap.rate_limit.rejections", "{request}", "Requests refused with 429 by a rate limit, by policy.");

    public void Rejected(string policy) => _rejections.Add(1, new KeyValuePair<string, object?>("policy", policy));
}
