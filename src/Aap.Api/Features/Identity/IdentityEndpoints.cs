using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

/// <summary>The product API of accounts and sessions: <c>/api/v1/auth</c> and <c>/api/v1/me</c>.</summary>
internal static class IdentityEndpoints
{
    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var auth = endpoints.MapGroup("/api/v1/auth").WithTags("Auth").ProducesProblem(400);
        auth.MapPost("/register", Register).WithName("Register").RequireRateLimiting(AuthRateLimit.Policy)
            .WithSummary("Create an account (role User). Fields such as role or id in the body are ignored.");
        auth.MapPost("/login", Login).WithName("Login").RequireRateLimiting(AuthRateLimit.Policy)
            .WithSummary("Exchange credentials for an access token and a refresh token.").ProducesProblem(401).ProducesProblem(429);
        auth.MapPost("/refresh", Refresh).WithName("Refresh").RequireRateLimiting(AuthRateLimit.Policy)
            .WithSummary("Exchange a refresh token (body or cookie) for a new pair; the old one is consumed.").ProducesProblem(401).ProducesProblem(429);
        auth.MapPost("/logout", Logout).WithName("Logout")
            .WithSummary("End this session (scope=current: the refresh token's, else the bearer token's) or every session of the user (scope=all).").ProducesProblem(401);

        var me = endpoints.MapGroup("/api/v1/me").WithTags("Me").RequireAuthorization().ProducesProblem(401);
        me.MapGet("", GetMe).WithName("GetMe").WithSummary("The caller's account.");
        me.MapPut("", UpdateMe).WithName("ReplaceMe").WithSummary("Change the username and/or email.").ProducesProblem(400);
        me.MapPatch("", UpdateMe).WithName("UpdateMe").WithSummary("Change the username and/or email.").ProducesProblem(400);
        me.MapPost("/password", ChangePassword).WithName("ChangePassword").ProducesProblem(400).ProducesProblem(429)
            .WithSummary("Change the password (needs the current one); ends every other session and returns a new pair.");
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<MeResponse>>, ProblemHttpResult>> Register(
        RegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var (user, errors) = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return user is null
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The account cannot be created.", errors)
            : TypedResults.Created("/api/v1/me", new Envelope<MeResponse>(MeResponse.From(user)));
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> Login(
        LoginRequest request, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Identifier, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (check.User is not { } user)
        {
            return check.RetryAfter is { } wait ? TooManyAttempts(context, wait) : InvalidCredentials(context);
        }

        var pair = await tokens.IssueAsync(user, TokenDialects.V1, cancellationToken);
        NoStore(context);
        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(pair)));
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> Refresh(
        RefreshRequest? request, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var (outcome, pair) = await tokens.RefreshAsync(request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request), TokenDialects.V1, cancellationToken);
        if (pair is null)
        {
            return InvalidRefresh(outcome);
        }

        NoStore(context);
        if (AuthCookies.RefreshFrom(context.Request) is not null)
        {
            AuthCookies.Write(context, pair, context.RequestServices.GetRequiredService<TimeProvider>());
        }

        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(pair)));
    }

    internal static async Task<Results<Ok<Envelope<LogoutResponse>>, ProblemHttpResult>> Logout(
        LogoutRequest? request, ClaimsPrincipal caller, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var refresh = request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request);
        var scope = request?.Scope ?? "current";
        if (scope is not ("current" or "all"))
        {
            return Problems.Validation("scope", "Use 'current' or 'all'.");
        }

        int ended;
        if (scope == "all")
        {
            var userId = caller.UserId() ?? await tokens.OwnerAsync(refresh, cancellationToken);
            if (userId is null)
            {
                return NoSession();
            }

            ended = await tokens.EndAllSessionsAsync(userId.Value, "logout_all", cancellationToken);
        }
        else if (refresh is not null ? await tokens.EndSessionAsync(refresh, cancellationToken) : await EndCallerSessionAsync(caller, tokens, cancellationToken))
        {
            ended = 1;
        }
        else
        {
            return NoSession();
        }

        AuthCookies.Clear(context);
        return TypedResults.Ok(new Envelope<LogoutResponse>(new LogoutResponse(ended)));
    }

    // A read from the account cache; a database context is rented only when the account is not in it.
    internal static async Task<Results<Ok<Envelope<MeResponse>>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal caller, ProfileCache profiles, HttpContext context, CancellationToken cancellationToken)
    {
        var me = await profiles.FindActiveAsync(context.RequestServices, caller.UserId() ?? 0, cancellationToken);
        return me is null ? AccountGone() : TypedResults.Ok(new Envelope<MeResponse>(me));
    }

    internal static async Task<Results<Ok<Envelope<MeResponse>>, ProblemHttpResult>> UpdateMe(
        UpdateProfileRequest request, ClaimsPrincipal caller, AccountService accounts, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(caller.UserId() ?? 0, cancellationToken) is not { } user)
        {
            return AccountGone();
        }

        var errors = await accounts.UpdateProfileAsync(user, request.Username, request.Email, cancellationToken);
        return errors.Count > 0
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The profile cannot be changed.", errors)
            : TypedResults.Ok(new Envelope<MeResponse>(MeResponse.From(user)));
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, ClaimsPrincipal caller, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(caller.UserId() ?? 0, cancellationToken) is not { } user)
        {
            return AccountGone();
        }

        var (errors, retryAfter) = await accounts.ChangePasswordAsync(
            user, request.CurrentPassword, request.NewPassword, context.Connection.RemoteIpAddress, cancellationToken);
        if (retryAfter is { } wait)
        {
            return TooManyAttempts(context, wait);
        }

        if (errors.Count > 0)
        {
            return Problems.Create(400, ProblemCodes.ValidationFailed, "The password cannot be changed.", errors);
        }

        await tokens.EndAllSessionsAsync(user.Id, "password_changed", cancellationToken);
        var pair = await tokens.IssueAsync(user, TokenDialects.V1, cancellationToken);
        NoStore(context);
        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(pair)));
    }

    internal static ProblemHttpResult InvalidCredentials(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"aap\"";
        return Problems.Create(401, AuthProblemCodes.InvalidCredentials, "Invalid credentials.");
    }

    /// <summary>
    /// Ends the session of the access token the caller presented (its <c>sid</c>): a logout that sends a bearer
    /// token and no refresh token. False when the caller presented none.
    /// </summary>
    internal static async Task<bool> EndCallerSessionAsync(ClaimsPrincipal caller, TokenService tokens, CancellationToken cancellationToken)
    {
        if (caller.UserId() is not { } userId || !Guid.TryParse(caller.FindFirst(TokenService.SessionClaim)?.Value, out var sessionId))
        {
            return false;
        }

        await tokens.EndSessionAsync(sessionId, userId, "logout", cancellationToken);
        return true;
    }

    /// <summary>429 for a password check refused by <see cref="CredentialThrottle"/>: nothing was checked.</summary>
    internal static ProblemHttpResult TooManyAttempts(HttpContext context, TimeSpan wait) =>
        Problems.Create(429, AuthProblemCodes.TooManyAttempts, TooManyAttemptsDetail(context, wait));

    /// <summary>Sets <c>Retry-After</c> and returns the detail of every 429 of a refused password check, endpoint or Basic.</summary>
    internal static string TooManyAttemptsDetail(HttpContext context, TimeSpan wait)
    {
        var seconds = (int)Math.Ceiling(wait.TotalSeconds);
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"Too many password attempts; retry in {seconds} s.";
    }

    internal static ProblemHttpResult InvalidRefresh(RefreshOutcome outcome) =>
        Problems.Create(401, AuthProblemCodes.InvalidRefreshToken, outcome == RefreshOutcome.Reused
            ? "This refresh token was already used; every token of its session has been revoked."
            : "The refresh token is invalid, expired or revoked.");

    internal static ProblemHttpResult NoSession() =>
        Problems.Create(401, ProblemCodes.Unauthorized, "Nothing identifies a session: send a refresh token or log in.");

    internal static void NoStore(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
    }

    private static ProblemHttpResult AccountGone() =>
        Problems.Create(401, ProblemCodes.Unauthorized, "The account no longer exists or is deactivated.");
}

internal static class AuthProblemCodes
{
    public const string InvalidCredentials = "invalid_credentials";
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string TooManyAttempts = "too_many_attempts";
}
