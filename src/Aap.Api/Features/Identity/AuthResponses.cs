using System.Security.Claims;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The answers every auth route gives, whichever contract it serves (the product API or a seed dialect): the
/// failures of credential checks, sessions and refresh tokens, and what a response that carries tokens must say.
/// </summary>
[FeatureSurface]
internal static class AuthResponses
{
    public static Failure InvalidCredentials { get; } = new(StatusCodes.Status401Unauthorized, AuthProblemCodes.InvalidCredentials, "Invalid credentials.");

    public static Failure NoSession { get; } =
        new(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Nothing identifies a session: send a refresh token or log in.");

    /// <summary>The caller's token is valid, but its account no longer exists or was deactivated.</summary>
    public static Failure AccountGone { get; } =
        new(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "The account no longer exists or is deactivated.");

    public static Failure InvalidRefresh { get; } =
        new(StatusCodes.Status401Unauthorized, AuthProblemCodes.InvalidRefreshToken, "The refresh token is invalid, expired or revoked.");

    public static Failure ReusedRefresh { get; } = new(StatusCodes.Status401Unauthorized, AuthProblemCodes.InvalidRefreshToken,
        "This refresh token was already used; every token of its session has been revoked.");

    /// <summary>A password check refused by <see cref="CredentialThrottle"/>: nothing was checked. Sent with <c>Retry-After</c>.</summary>
    public static Failure TooManyAttempts(TimeSpan wait) =>
        new(StatusCodes.Status429TooManyRequests, AuthProblemCodes.TooManyAttempts, $"Too many password attempts; retry in {Failure.RetryAfterSeconds(wait)} s.")
        {
            RetryAfter = TimeSpan.FromSeconds(Failure.RetryAfterSeconds(wait)),
        };

    /// <summary>
    /// The problem of a refused login: <see cref="InvalidCredentials"/> offers the Bearer scheme
    /// (<c>WWW-Authenticate</c>), <see cref="TooManyAttempts"/> says when to retry.
    /// </summary>
    public static ProblemHttpResult Refused(HttpContext context, Failure failure)
    {
        if (failure.Code == AuthProblemCodes.InvalidCredentials && failure.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"aap\"";
        }

        return failure.ToProblem(context);
    }

    /// <summary>A response that carries tokens is never stored by a cache.</summary>
    public static void NoStore(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
    }

    /// <summary>
    /// Ends the session of the access token the caller presented (its <c>sid</c>): a logout that sends a bearer
    /// token and no refresh token. False when the caller presented none.
    /// </summary>
    public static async Task<bool> EndCallerSessionAsync(ClaimsPrincipal caller, TokenService tokens, CancellationToken cancellationToken)
    {
        if (caller.UserId() is not { } userId || !Guid.TryParse(caller.FindFirst(TokenService.SessionClaim)?.Value, out var sessionId))
        {
            return false;
        }

        await tokens.EndSessionAsync(sessionId, userId, "logout", cancellationToken);
        return true;
    }
}
