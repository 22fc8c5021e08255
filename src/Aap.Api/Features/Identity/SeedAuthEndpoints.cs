using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Identity;

// Wire contracts of the seed documents, exactly as their clients expect them (snake_case, no envelope).
public sealed record SeedRegisterRequest(string? Email, string? Username, string? Password);

public sealed record SeedLoginRequest(string? Email, string? Username, string? Password);

public sealed record SeedLogoutRequest(string? RefreshToken);

public sealed record SeedTokenRefreshRequest(string? Refresh);

internal sealed record SeedTokens(string AccessToken, string RefreshToken);

internal sealed record SeedAccessToken(string AccessToken);

internal sealed record SeedAccess(string Access, string Refresh);

internal sealed record SeedRegistered(long Id, string? Email);

internal sealed record SeedUser(long Id, string Username, string? Email)
{
    public static SeedUser From(User user) => new(user.Id, user.UserName ?? "", user.Email);
}

internal sealed record SeedMessage(string Message);

internal sealed record SeedSuccess(string Success);

/// <summary>
/// The authentication routes of the seed documents, thin adapters over the same services as the product API:
/// seed 004 (<c>/api/register/</c>, <c>/api/login/</c>, <c>/api/refresh/</c>, <c>/api/logout/</c>, <c>/api/me/</c>),
/// seed 000 (<c>/api/signup/</c>, cookie login and logout, <c>/api/token/user|admin|refresh/</c>) and seed 003
/// (<c>/register</c>, <c>/login</c>). Routing ignores a trailing slash, so each route answers with and without one.
/// </summary>
internal static class SeedAuthEndpoints
{
    public static IEndpointRouteBuilder MapSeedAuthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var seeds = endpoints.MapGroup("").WithTags("Seed dialects").WithTrailingSlash().ProducesProblem(400);

        seeds.MapPost("/api/register/", Register).WithName("SeedRegister").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/signup/", Signup).WithName("SeedSignup").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/login/", Login).WithName("SeedLogin").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/refresh/", Refresh).WithName("SeedRefresh").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/logout/", Logout).WithName("SeedLogout");
        seeds.MapGet("/api/me/", GetMe).WithName("SeedGetMe").RequireAuthorization();
        seeds.MapPut("/api/me/", UpdateMe).WithName("SeedUpdateMe").RequireAuthorization();
        seeds.MapPost("/api/token/user/", TokenForUser).WithName("SeedTokenUser").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/token/admin/", TokenForAdmin).WithName("SeedTokenAdmin").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/api/token/refresh/", TokenRefresh).WithName("SeedTokenRefresh").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/register", TaskApiRegister).WithName("SeedTaskApiRegister").RequireRateLimiting(AuthRateLimit.Policy);
        seeds.MapPost("/login", TaskApiLogin).WithName("SeedTaskApiLogin").RequireRateLimiting(AuthRateLimit.Policy);
        return endpoints;
    }

    // Seed 004: {"password","email"} -> {"id","email"}.
    internal static async Task<Results<Created<SeedRegistered>, ProblemHttpResult>> Register(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var (user, errors) = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return user is null
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The account cannot be created.", errors)
            : TypedResults.Created("/api/me/", new SeedRegistered(user.Id, user.Email));
    }

    // Seed 000: username, password, email -> 201.
    internal static async Task<Results<Created<SeedUser>, ProblemHttpResult>> Signup(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        // Seed 000 lists username, password and email as the signup's fields: all three are required here, even
        // though the product API's register takes either a username or an email.
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(request.Username))
        {
            errors.Add("username", "A username is required.");
        }

        if (string.IsNullOrWhiteSpace(request.Email))
        {
            errors.Add("email", "An email address is required.");
        }

        if (errors.Count > 0)
        {
            return Problems.Create(400, ProblemCodes.ValidationFailed, "The account cannot be created.", errors);
        }

        var (user, registerErrors) = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return user is null
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The account cannot be created.", registerErrors)
            : TypedResults.Created("/api/me/", SeedUser.From(user));
    }

    // Seed 004 (by email) and seed 000 (by username, tokens as cookies): both, in one answer.
    internal static async Task<Results<Ok<SeedTokens>, ProblemHttpResult>> Login(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Email ?? request.Username, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (check.User is not { } user)
        {
            return check.RetryAfter is { } wait ? IdentityEndpoints.TooManyAttempts(context, wait) : IdentityEndpoints.InvalidCredentials(context);
        }

        var pair = await tokens.IssueAsync(user, TokenDialects.Seed, cancellationToken);
        AuthCookies.Write(context, pair, clock);
        IdentityEndpoints.NoStore(context);
        return TypedResults.Ok(new SeedTokens(pair.AccessToken, pair.RefreshToken));
    }

    // Seed 004: {"refresh_token"} -> a new pair.
    internal static async Task<Results<Ok<SeedTokens>, ProblemHttpResult>> Refresh(
        SeedLogoutRequest? request, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var fromCookie = AuthCookies.RefreshFrom(context.Request);
        var (outcome, pair) = await tokens.RefreshAsync(request?.RefreshToken ?? fromCookie, TokenDialects.Seed, cancellationToken);
        if (pair is null)
        {
            return IdentityEndpoints.InvalidRefresh(outcome);
        }

        if (fromCookie is not null)
        {
            AuthCookies.Write(context, pair, clock);
        }

        IdentityEndpoints.NoStore(context);
        return TypedResults.Ok(new SeedTokens(pair.AccessToken, pair.RefreshToken));
    }

    // Seed 004: {"refresh_token"} -> {"success": "User logged out."}; seed 000: the same from the cookies alone, or
    // for the session of the bearer token when no refresh token is sent.
    internal static async Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> Logout(
        SeedLogoutRequest? request, ClaimsPrincipal caller, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var refresh = request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request);
        if (!(refresh is not null && await tokens.EndSessionAsync(refresh, cancellationToken)) &&
            !await IdentityEndpoints.EndCallerSessionAsync(caller, tokens, cancellationToken))
        {
            return IdentityEndpoints.NoSession();
        }

        AuthCookies.Clear(context);
        return TypedResults.Ok(new SeedSuccess("User logged out."));
    }

    // Seed 004: {"id","username","email"}, username "" when unset.
    internal static async Task<Results<Ok<SeedUser>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal caller, AccountService accounts, CancellationToken cancellationToken) =>
        await accounts.FindAsync(caller.UserId() ?? 0, cancellationToken) is { } user
            ? TypedResults.Ok(SeedUser.From(user))
            : IdentityEndpoints.NoSession();

    internal static async Task<Results<Ok<SeedUser>, ProblemHttpResult>> UpdateMe(
        UpdateProfileRequest request, ClaimsPrincipal caller, AccountService accounts, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(caller.UserId() ?? 0, cancellationToken) is not { } user)
        {
            return IdentityEndpoints.NoSession();
        }

        var errors = await accounts.UpdateProfileAsync(user, request.Username, request.Email, cancellationToken);
        return errors.Count > 0
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The profile cannot be changed.", errors)
            : TypedResults.Ok(SeedUser.From(user));
    }

    // Seed 000 "Manual Token Generation": tokens as cookies; any failure is 400 "invalid credentials".
    internal static Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> TokenForUser(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken) =>
        CookieTokensAsync(request, requireAdmin: false, accounts, tokens, clock, context, cancellationToken);

    internal static Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> TokenForAdmin(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken) =>
        CookieTokensAsync(request, requireAdmin: true, accounts, tokens, clock, context, cancellationToken);

    // Seed 000: {"refresh"} -> {"access"}, and the successor {"refresh"} as a rotating Simple JWT answers: the
    // presented token is consumed, so that a stolen one is caught when it is used twice. Cookies are renewed too.
    internal static async Task<Results<Ok<SeedAccess>, ProblemHttpResult>> TokenRefresh(
        SeedTokenRefreshRequest? request, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var (_, pair) = await tokens.RefreshAsync(request?.Refresh ?? AuthCookies.RefreshFrom(context.Request), TokenDialects.Seed, cancellationToken);
        if (pair is null)
        {
            return Problems.Create(400, AuthProblemCodes.InvalidRefreshToken, "Invalid refresh token.");
        }

        AuthCookies.Write(context, pair, clock);
        IdentityEndpoints.NoStore(context);
        return TypedResults.Ok(new SeedAccess(pair.AccessToken, pair.RefreshToken));
    }

    // Seed 003: {"username","password"} -> 201 {"message": "User created successfully"}.
    internal static async Task<Results<Created<SeedMessage>, ProblemHttpResult>> TaskApiRegister(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var (user, errors) = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return user is null
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "The account cannot be created.", errors)
            : TypedResults.Created("/api/me/", new SeedMessage("User created successfully"));
    }

    // Seed 003: -> {"access_token": ...}.
    internal static async Task<Results<Ok<SeedAccessToken>, ProblemHttpResult>> TaskApiLogin(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Username ?? request.Email, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (check.User is not { } user)
        {
            return check.RetryAfter is { } wait ? IdentityEndpoints.TooManyAttempts(context, wait) : IdentityEndpoints.InvalidCredentials(context);
        }

        // This dialect has no refresh token: none is stored that no client could ever use or revoke.
        var (access, _) = await tokens.IssueAccessOnlyAsync(user, TokenDialects.Seed, cancellationToken);
        IdentityEndpoints.NoStore(context);
        return TypedResults.Ok(new SeedAccessToken(access));
    }

    private static async Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> CookieTokensAsync(
        SeedLoginRequest request, bool requireAdmin, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Username ?? request.Email, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (check.RetryAfter is { } wait)
        {
            return IdentityEndpoints.TooManyAttempts(context, wait);
        }

        if (check.User is not { } user || (requireAdmin && user.Role != Roles.Admin))
        {
            return Problems.Create(400, AuthProblemCodes.InvalidCredentials, "invalid credentials");
        }

        var pair = await tokens.IssueAsync(user, TokenDialects.Seed, cancellationToken);
        AuthCookies.Write(context, pair, clock);
        IdentityEndpoints.NoStore(context);
        return TypedResults.Ok(new SeedSuccess("Tokens set as cookies."));
    }
}
