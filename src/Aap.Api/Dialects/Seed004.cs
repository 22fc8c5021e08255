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
    public static SeedUser From(Account account) => new(account.Id, account.UserName ?? "", account.Email);
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
        seed.MapPost("/register/", Register).WithName("SeedRegister").RequireRateLimiting(AuthRateLimit.Register)
            .WithSummary("Seed 004 register: {\"email\", \"password\"} -> 201 {\"id\", \"email\"}.");
        seed.MapPost("/login/", Login).WithName("SeedLogin").RequireRateLimiting(AuthRateLimit.Login)
            .WithSummary("Seed 004 login (seed 000's too): by email or username -> {\"access_token\", \"refresh_token\"}, also as cookies.");
        seed.MapPost("/refresh/", Refresh).WithName("SeedRefresh").RequireRateLimiting(AuthRateLimit.Refresh)
            .WithSummary("Seed 004 refresh: {\"refresh_token\"} or the cookie -> a new pair without the envelope; the old one is consumed.");
        seed.MapPost("/logout/", Logout).WithName("SeedLogout")
            .WithSummary("Seed 004 logout: ends the refresh token's session (body or cookie), else the bearer token's -> {\"success\"}.");
        seed.MapGet("/me/", GetMe).WithName("SeedGetMe").RequireAuthorization()
            .WithSummary("Seed 004 me: {\"id\", \"username\", \"email\"}, username \"\" when unset.");
        seed.MapPut("/me/", UpdateMe).WithName("SeedUpdateMe").RequireAuthorization()
            .WithSummary("Seed 004 me update: change the username and/or email -> {\"id\", \"username\", \"email\"}.");
        return endpoints;
    }

    // Seed 004: {"password","email"} -> {"id","email"}.
    internal static async Task<Results<Created<SeedRegistered>, ProblemHttpResult>> Register(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var registered = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return registered.Succeeded
            ? TypedResults.Created("/api/me/", new SeedRegistered(registered.Value.Id, registered.Value.Email))
            : registered.Failure.ToProblem();
    }

    // Seed 004 (by email) and seed 000 (by username, tokens as cookies): both, in one answer.
    internal static async Task<Results<Ok<SeedTokens>, ProblemHttpResult>> Login(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Email ?? request.Username, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (!check.Succeeded)
        {
            return AuthResponses.Refused(context, check.Failure);
        }

        var pair = await tokens.IssueAsync(check.Value, TokenDialects.Seed, cancellationToken);
        AuthCookies.Write(context, pair, clock);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new SeedTokens(pair.AccessToken, pair.RefreshToken));
    }

    // Seed 004: {"refresh_token"} -> a new pair.
    internal static async Task<Results<Ok<SeedTokens>, ProblemHttpResult>> Refresh(
        SeedLogoutRequest? request, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var fromCookie = AuthCookies.RefreshFrom(context.Request);
        var refreshed = await tokens.RefreshAsync(request?.RefreshToken ?? fromCookie, TokenDialects.Seed, cancellationToken);
        if (!refreshed.Succeeded)
        {
            return refreshed.Failure.ToProblem();
        }

        if (fromCookie is not null)
        {
            AuthCookies.Write(context, refreshed.Value, clock);
        }

        AuthResponses.NoStore(context);
        return TypedResults.Ok(new SeedTokens(refreshed.Value.AccessToken, refreshed.Value.RefreshToken));
    }

    // Seed 004: {"refresh_token"} -> {"success": "User logged out."}; seed 000: the same from the cookies alone, or
    // for the session of the bearer token when no refresh token is sent.
    internal static async Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> Logout(
        SeedLogoutRequest? request, ClaimsPrincipal caller, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var refresh = request?.RefreshToken ?? AuthCookies.RefreshFrom(context.Request);
        if (!(refresh is not null && await tokens.EndSessionAsync(refresh, cancellationToken)) &&
            !await AuthResponses.EndCallerSessionAsync(caller, tokens, cancellationToken))
        {
            return AuthResponses.NoSession.ToProblem();
        }

        AuthCookies.Clear(context);
        return TypedResults.Ok(new SeedSuccess("User logged out."));
    }

    // Seed 004: {"id","username","email"}, username "" when unset. The same code as GET /api/v1/me: the account
    // cache, and the same failure for an account deleted or deactivated since its token was issued.
    internal static async Task<Results<Ok<SeedUser>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal caller, ProfileCache profiles, HttpContext context, CancellationToken cancellationToken)
    {
        var me = await profiles.FindCallerAsync(caller, context, cancellationToken);
        return me.Succeeded ? TypedResults.Ok(SeedUser.From(me.Value)) : me.Failure.ToProblem();
    }

    // A caller whose account is gone is answered as one without a session, as this route always has.
    internal static async Task<Results<Ok<SeedUser>, ProblemHttpResult>> UpdateMe(
        UpdateProfileRequest request, ClaimsPrincipal caller, AccountService accounts, CancellationToken cancellationToken)
    {
        var updated = await accounts.UpdateProfileAsync(caller.UserId() ?? 0, request.Username, request.Email, cancellationToken);
        if (updated.Succeeded)
        {
            return TypedResults.Ok(SeedUser.From(updated.Value));
        }

        return (updated.Failure == AuthResponses.AccountGone ? AuthResponses.NoSession : updated.Failure).ToProblem();
    }
}
