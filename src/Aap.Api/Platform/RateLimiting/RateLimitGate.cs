using System.Globalization;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>Why a request was refused: the policy whose window is full, the seconds until it resets, and the route's own words, if any.</summary>
internal sealed record RateLimitRefusal(string Policy, int RetryAfterSeconds, string? Detail);

/// <summary>
/// The rate limits' middleware, where the caller is known (after authentication): every request is counted by
/// <see cref="RouteRateLimiter"/>; a refused one is answered here with a 429 problem that names the policy, with
/// <c>Retry-After</c>, counted in <c>aap.rate_limit.rejections</c>, and goes no further. An admitted request costs no
/// allocation of its own here: the check completes synchronously unless the windows are in Redis.
/// </summary>
internal sealed class RateLimitGate(RequestDelegate next, RouteRateLimiter limiter, RateLimitMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var check = limiter.CheckAsync(context);
        if (check.IsCompletedSuccessfully)
        {
            return check.Result is { } refusal ? RefuseAsync(context, refusal) : next(context);
        }

        return AfterCheckAsync(context, check);
    }

    private async Task AfterCheckAsync(HttpContext context, ValueTask<RateLimitRefusal?> check)
    {
        if (await check is { } refusal)
        {
            await RefuseAsync(context, refusal);
            return;
        }

        await next(context);
    }

    private Task RefuseAsync(HttpContext context, RateLimitRefusal refusal)
    {
        context.Items[RouteRateLimiter.PolicyItem] = refusal.Policy;
        metrics.Rejected(refusal.Policy);
        var retryAfter = refusal.RetryAfterSeconds;
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Detail = refusal.Detail is { } detail
                ? $"{detail}; retry in {retryAfter} s."
                : $"Too many requests under the '{refusal.Policy}' rate limit; retry in {retryAfter} s.",
        };
        problem.Extensions["code"] = ProblemCodes.RateLimited;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}
