using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// Rate limits on every route (<see cref="RouteRateLimiter"/>, the global limiter) beside the named policies
/// features put on their own routes. Every refusal is a 429 problem naming the policy, with <c>Retry-After</c>, and
/// is counted in <c>aap.rate_limit.rejections</c>. The middleware itself runs where the caller is known
/// (after authentication).
/// </summary>
internal static class RateLimitingSetup
{
    public static IServiceCollection AddAapRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WindowCounters>();
        services.AddSingleton<RouteRateLimiter>();
        services.AddSingleton<RateLimitMetrics>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<RouteRateLimiter>((limiter, global) => limiter.GlobalLimiter = global);
        // A feature may set its own OnRejected for its policies (configured after this): the global limiter's refusals
        // are answered here, the others by that handler; all are counted and named.
        services.AddOptions<RateLimiterOptions>().PostConfigure<RateLimitMetrics>((limiter, metrics) =>
        {
            var featureHandler = limiter.OnRejected;
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var http = rejected.HttpContext;
                var global = http.Items.ContainsKey(RouteRateLimiter.PolicyItem);
                var policy = global ? (string)http.Items[RouteRateLimiter.PolicyItem]! : PolicyOf(http);
                http.Items[RouteRateLimiter.PolicyItem] = policy;
                metrics.Rejected(policy);
                if (!global && featureHandler is not null)
                {
                    await featureHandler(rejected, cancellationToken);
                    return;
                }

                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                var problem = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Detail = http.Items[RouteRateLimiter.RefusalItem] is string refusal
                        ? $"{refusal}; retry in {retryAfter} s."
                        : $"Too many requests under the '{policy}' rate limit; retry in {retryAfter} s.",
                };
                problem.Extensions["code"] = ProblemCodes.RateLimited;
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
            };
        });
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

    private static string PolicyOf(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName ?? "endpoint";
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
