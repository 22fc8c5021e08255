using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Identity;

/// <summary>The product API of accounts and sessions: <c>/api/v1/auth</c> and <c>/api/v1/me</c>.</summary>
internal static class IdentityEndpoints
{
    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var auth = endpoints.MapGroup("/api/v1/auth").WithTags("Auth").ProducesProblem(400);
        auth.MapPost("/register", Register).WithName("Register").RequireRateLimiting(AuthRateLimit.Register)
            .WithSummary("Create an account (role User). Fields such as role or id in the body are ignored.");
        auth.MapPost("/login", Login).WithName("Login").RequireRateLimiting(AuthRateLimit.Login)
            .WithSummary("Exchange credentials for an access token and a refresh token.").ProducesProblem(401).ProducesProblem(429);
        auth.MapPost("/refresh", Refresh).WithName("Refresh").RequireRateLimiting(AuthRateLimit.Refresh)
            .WithSummary("Exchange a refresh token (body or cookie) for a new pair; the old one is consumed.").ProducesProblem(401).ProducesProblem(429);
        auth.MapPost("/logout", Logout).WithName("Logout")
            .WithSummary("End this session (scope=current: the refresh token's, else the bearer token's) or every session of the user (scope=all).").ProducesProblem(401);

        var me = endpoints.MapGroup("/api/v1/me").WithTags("Me").RequireAuthorization().ProducesProblem(401);
        me.MapGet("", GetMe).WithName("GetMe").WithSummary("The caller's account.");
        me.MapPut("", UpdateMe).WithName("ReplaceMe").WithSummary("Change the username and/or email (PUT, answered as PATCH: a field left out is kept).").ProducesProblem(400);
        me.MapPatch("", UpdateMe).WithName("UpdateMe").WithSummary("Change the username and/or email; a field left out is kept.").ProducesProblem(400);
        me.MapPost("/password", ChangePassword).WithName("ChangePassword").ProducesProblem(400).ProducesProblem(429)
            .WithSummary("Change the password (needs the current one); ends every other session and returns a new pair.");
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<MeResponse>>, ProblemHttpResult>> Register(
        RegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var registered = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return registered.Succeeded
            ? TypedResults.Created("/api/v1/me", new Envelope<MeResponse>(MeResponse.From(registered.Value)))
            : registered.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> Login(
        LoginRequest request, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        if (MissingCredentials(request) is { } missing)
        {
            return missing;
        }

        var check = await accounts.AuthenticateAsync(request.Identifier, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (!check.Succeeded)
        {
            return AuthResponses.Refused(context, check.Failure);
        }

        var pair = await tokens.IssueAsync(check.Value, TokenDialects.V1, cancellationToken);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(pair)));
    }

    /// <summary>
    /// A body without a login or a password is a malformed request, not a failed sign-in: it names the missing fields
    /// and counts no attempt. Only a login and a password that are both present are checked (and counted).
    /// </summary>
    private static ProblemHttpResult? MissingCredentials(LoginRequest request)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(request.Login) && string.IsNullOrWhiteSpace(request.Email) && string.IsNullOrWhiteSpace(request.Username))
        {
            errors.Add("login", "A login is required: an email or a username (the fields email or username may be sent instead).");
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "A password is required.");
        }

        return errors.Count == 0
            ? null
            : Problems.Create(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"Send {string.Join(" and ", errors.Keys)}.", errors);
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> Refresh(
        RefreshRequest? request, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var refreshed = await tokens.RefreshAsync(request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request), TokenDialects.V1, cancellationToken);
        if (!refreshed.Succeeded)
        {
            return refreshed.Failure.ToProblem();
        }

        AuthResponses.NoStore(context);
        if (AuthCookies.RefreshFrom(context.Request) is not null)
        {
            AuthCookies.Write(context, refreshed.Value, clock);
        }

        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(refreshed.Value)));
    }

    internal static async Task<Results<Ok<Envelope<LogoutResponse>>, ProblemHttpResult>> Logout(
        LogoutRequest? request, ClaimsPrincipal caller, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var refresh = request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request);
        int ended;
        if (request?.Scope == LogoutRequest.All)
        {
            var userId = caller.UserId() ?? await tokens.OwnerAsync(refresh, cancellationToken);
            if (userId is null)
            {
                return AuthResponses.NoSession.ToProblem();
            }

            ended = await tokens.EndAllSessionsAsync(userId.Value, "logout_all", cancellationToken);
        }
        else if (refresh is not null ? await tokens.EndSessionAsync(refresh, cancellationToken) : await AuthResponses.EndCallerSessionAsync(caller, tokens, cancellationToken))
        {
            ended = 1;
        }
        else
        {
            return AuthResponses.NoSession.ToProblem();
        }

        AuthCookies.Clear(context);
        return TypedResults.Ok(new Envelope<LogoutResponse>(new LogoutResponse(ended)));
    }

    // A read from the account cache; a database context is rented only when the account is not in it. Seed 004's
    // GET /api/me/ runs the same code (ProfileCache.FindCallerAsync) and gives the same failures.
    internal static async Task<Results<Ok<Envelope<MeResponse>>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal caller, ProfileCache profiles, HttpContext context, CancellationToken cancellationToken)
    {
        var me = await profiles.FindCallerAsync(caller, context, cancellationToken);
        return me.Succeeded ? TypedResults.Ok(new Envelope<MeResponse>(MeResponse.From(me.Value))) : me.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<MeResponse>>, ProblemHttpResult>> UpdateMe(
        UpdateProfileRequest request, ClaimsPrincipal caller, AccountService accounts, CancellationToken cancellationToken)
    {
        var updated = await accounts.UpdateProfileAsync(caller.UserId() ?? 0, request.Username, request.Email, cancellationToken);
        return updated.Succeeded ? TypedResults.Ok(new Envelope<MeResponse>(MeResponse.From(updated.Value))) : updated.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<TokenResponse>>, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, ClaimsPrincipal caller, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var changed = await accounts.ChangePasswordAsync(
            caller.UserId() ?? 0, request.CurrentPassword, request.NewPassword, context.Connection.RemoteIpAddress, cancellationToken);
        if (!changed.Succeeded)
        {
            return changed.Failure.ToProblem(context);
        }

        await tokens.EndAllSessionsAsync(changed.Value.Id, "password_changed", cancellationToken);
        var pair = await tokens.IssueAsync(changed.Value, TokenDialects.V1, cancellationToken);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new Envelope<TokenResponse>(TokenResponse.From(pair)));
    }
}
