using System.Security.Claims;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Dialects;

public sealed record SeedRegisterRequest(string? Email, string? Username, string? Password);

public sealed record SeedLoginRequest(string? Email, string? Username, string? Password);

public sealed record SeedLogoutRequest(string? RefreshToken);

internal sealed record SeedTokens(string AccessToken, string RefreshToken);

internal sealed record SeedRegistered(long Id, string? Email);

internal sealed record SeedUser(long Id, string Username, string? Email)
{
    public static SeedUser From(User user) => new(user.Id, user.UserName ?? "", user.Email);
}

internal sealed record SeedSuccess(string Success);

/// <summary>
/// Seed 004, the JWT authentication service: <c>/api/register/</c>, <c>/api/login/</c>, <c>/api/refresh/</c>,
/// <c>/api/logout/</c> and <c>/api/me/</c>. Seed 000 logs in and out through the same two routes (by username, tokens
/// as cookies): one answer serves both. Routing ignores a trailing slash, so each route answers with and without one.
/// </summary>
internal static class Seed004
{
    public static IEndpointRouteBuilder MapSeed004(this IEndpointRouteBuilder endpoints)
    {
        var seed = endpoints.MapGroup("/api").WithTags("Seed dialects").WithTrailingSlash().ProducesProblem(400);
        seed.MapPost("/register/", Register).WithName("SeedRegister").RequireRateLimiting(AuthRateLimit.Policy);
        seed.MapPost("/login/", Login).WithName("SeedLogin").RequireRateLimiting(AuthRateLimit.Policy);
        seed.MapPost("/refresh/", Refresh).WithName("SeedRefresh").RequireRateLimiting(AuthRateLimit.Policy);
        seed.MapPost("/logout/", Logout).WithName("SeedLogout");
        seed.MapGet("/me/", GetMe).WithName("SeedGetMe").RequireAuthorization();
        seed.MapPut("/me/", UpdateMe).WithName("SeedUpdateMe").RequireAuthorization();
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
}
