using System.Security.Claims;
using System.Text.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Dialects;

public sealed record SeedTokenRefreshRequest(string? Refresh);

internal sealed record SeedAccess(string Access, string Refresh);

internal sealed record SeedProfile(long Id, string Username, string? Email, long TotalPoints);

internal sealed record SeedTotalPoints(long TotalPoints);

internal sealed record SeedDeleted(string Message);

/// <summary>
/// Seed 000, the rewards portal's "Problem Set 2", in the style of the Django REST framework it was written for:
/// plain JSON, an object per item, an array per list, over the same services as the product API. Signup, the
/// cookie tokens of "Manual Token Generation" and their refresh; the user and admin endpoints, whose admin routes
/// answer 401 "Admin access required" to users who are not admins, as the seed lists. Login and logout are seed
/// 004's routes (<see cref="Seed004"/>), which answer both documents.
/// </summary>
internal static class Seed000
{
    public static IEndpointRouteBuilder MapSeed000(this IEndpointRouteBuilder endpoints)
    {
        var auth = endpoints.MapGroup("/api").WithTags("Seed dialects").WithTrailingSlash().ProducesProblem(400);
        auth.MapPost("/signup/", Signup).WithName("SeedSignup").RequireRateLimiting(AuthRateLimit.Register)
            .WithSummary("Seed 000 signup: username, email and password all required; the user as a bare object.");
        auth.MapPost("/token/user/", TokenForUser).WithName("SeedTokenUser").RequireRateLimiting(AuthRateLimit.Login)
            .WithSummary("Seed 000 manual token generation: tokens as cookies, {\"success\"}; any refusal is 400 `invalid credentials`.");
        auth.MapPost("/token/admin/", TokenForAdmin).WithName("SeedTokenAdmin").RequireRateLimiting(AuthRateLimit.Login)
            .WithSummary("Seed 000 admin token generation: as /api/token/user/, for admins only; a user is 400 `invalid credentials`.");
        auth.MapPost("/token/refresh/", TokenRefresh).WithName("SeedTokenRefresh").RequireRateLimiting(AuthRateLimit.Refresh)
            .WithSummary("Seed 000 token refresh: {\"refresh\"} or the cookie -> {\"access\", \"refresh\"}; every failure is 400 `Invalid refresh token.`");

        var seed = endpoints.MapGroup("/api").WithTags("Seed dialects").WithTrailingSlash().RequireAuthorization().ProducesProblem(401);
        seed.MapGet("/apps/list/", ListApps).WithName("ProblemSet2ListApps")
            .WithSummary("Seed 000 app list: the active apps as a bare array, unpaged.");
        seed.MapGet("/apps/detail/{app_id}/", GetApp).WithName("ProblemSet2GetApp").ProducesProblem(404)
            .WithSummary("Seed 000 app detail: one active app, without the envelope.");
        // No Accepts(): its content-type check would answer 415 before the handler, and the seed lists 400 for any
        // invalid request; ReadsMultipartUpload describes the form to OpenAPI without it.
        seed.MapPost("/apps/detail/{app_id}/", CompleteApp).WithName("ProblemSet2CompleteApp").DisableAntiforgery()
            .WithSummary("Seed 000 task completion: multipart 'screenshot' (app_id, if sent, must match the URL); every refusal is 400.")
            .ReadsMultipartUpload(MultipartForms.File("screenshot", "The proof: an image of the completed task."), MultipartForms.Integer("app_id")).ProducesProblem(404);
        seed.MapGet("/profile/", Profile).WithName("ProblemSet2Profile")
            .WithSummary("Seed 000 profile: id, username, email and total_points of the caller.");
        seed.MapGet("/tasks/list/", ListTasks).WithName("ProblemSet2ListTasks")
            .WithSummary("Seed 000 task list: the caller's completions as a bare array.");
        seed.MapGet("/total-points/", TotalPoints).WithName("ProblemSet2TotalPoints")
            .WithSummary("Seed 000 total points: the caller's balance as {\"total_points\"}.");

        var admin = endpoints.MapGroup("/api").WithTags("Seed dialects").WithTrailingSlash().RequireAuthorization().AddEndpointFilter(RequireAdmin)
            .ProducesProblem(400).ProducesProblem(401);
        admin.MapPost("/apps/create/", CreateApp).WithName("ProblemSet2CreateApp")
            .WithSummary("Seed 000 admin app creation: a taken name is 400; a non-admin is 401 `Admin access required.`");
        admin.MapPut("/apps/update/{app_id}/", UpdateApp).WithName("ProblemSet2UpdateApp").Accepts<AppRequest>("application/json").ProducesProblem(404)
            .WithSummary("Seed 000 admin app update: the fields sent replace the app's, the others keep their values; non-admins 401.");
        admin.MapDelete("/apps/update/{app_id}/", DeleteApp).WithName("ProblemSet2DeleteApp").ProducesProblem(404)
            .WithSummary("Seed 000 admin app deletion: {\"message\": \"App deleted successfully.\"}; non-admins 401.");
        admin.MapGet("/tasks/detail/{task_id}/", GetTask).WithName("ProblemSet2GetTask").ProducesProblem(404)
            .WithSummary("Seed 000 admin task detail: any user's completion, without the envelope; non-admins 401.");
        admin.MapDelete("/tasks/detail/{task_id}/", DeleteTask).WithName("ProblemSet2DeleteTask").ProducesProblem(404)
            .WithSummary("Seed 000 admin task deletion: removes a completion and its points, {\"message\"}; non-admins 401.");
        return endpoints;
    }

    // Seed 000: username, password, email -> 201.
    internal static async Task<Results<Created<SeedUser>, ProblemHttpResult>> Signup(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        // Seed 000 lists username, password and email as the signup's fields: all three are required here, even
        // though the product API's register takes either a username or an email. Checked here, not by attributes on
        // the record it shares with the other seeds' registrations, and answered with the registration's own detail.
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
            return Failure.Invalid(errors, "The account cannot be created.").ToProblem();
        }

        var registered = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return registered.Succeeded
            ? TypedResults.Created("/api/me/", SeedUser.From(registered.Value))
            : registered.Failure.ToProblem();
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
    // Every failure, a replay included, is the seed's 400 "Invalid refresh token.".
    internal static async Task<Results<Ok<SeedAccess>, ProblemHttpResult>> TokenRefresh(
        SeedTokenRefreshRequest? request, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var refreshed = await tokens.RefreshAsync(request?.Refresh ?? AuthCookies.RefreshFrom(context.Request), TokenDialects.Seed, cancellationToken);
        if (!refreshed.Succeeded)
        {
            return (refreshed.Failure.WithStatus(StatusCodes.Status400BadRequest) with { Detail = "Invalid refresh token." }).ToProblem();
        }

        AuthCookies.Write(context, refreshed.Value, clock);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new SeedAccess(refreshed.Value.AccessToken, refreshed.Value.RefreshToken));
    }

    private static async Task<Results<Ok<SeedSuccess>, ProblemHttpResult>> CookieTokensAsync(
        SeedLoginRequest request, bool requireAdmin, AccountService accounts, TokenService tokens, TimeProvider clock, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Username ?? request.Email, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (!check.Succeeded && check.Failure.Status == StatusCodes.Status429TooManyRequests)
        {
            return check.Failure.ToProblem(context);
        }

        if (!check.Succeeded || (requireAdmin && check.Value.Role != Roles.Admin))
        {
            return (AuthResponses.InvalidCredentials.WithStatus(StatusCodes.Status400BadRequest) with { Detail = "invalid credentials" }).ToProblem();
        }

        var pair = await tokens.IssueAsync(check.Value, TokenDialects.Seed, cancellationToken);
        AuthCookies.Write(context, pair, clock);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new SeedSuccess("Tokens set as cookies."));
    }

    internal static async Task<Ok<List<AppResponse>>> ListApps(AppsCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(await catalog.ListActiveAsync(cancellationToken));

    internal static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> GetApp(long app_id, AppsCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.GetActiveAsync(app_id, cancellationToken) is { } app
            ? TypedResults.Ok(app)
            : Failure.NotFound($"App {app_id}").ToProblem();

    private const string ExpectedBody = "A multipart/form-data body with the proof image as a file in a field named 'screenshot' (and optionally app_id) is expected.";

    internal static async Task<Results<Created<CompletionResponse>, ProblemHttpResult>> CompleteApp(
        long app_id, HttpContext context, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return Failure.Of(400, ProblemCodes.ValidationFailed, ExpectedBody, "screenshot").ToProblem();
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        if (form.TryGetValue("app_id", out var bodyAppId) && bodyAppId.ToString() != app_id.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return Problems.Validation("app_id", "app_id in the body does not match the app in the URL.");
        }

        // The seed lists 400 for every invalid request: a conflict or an unsupported file is one too.
        var completed = await rewards.CompleteAsync(caller.UserId()!.Value, app_id, form.Files.GetFile("screenshot"), cancellationToken);
        return completed.Succeeded
            ? TypedResults.Created($"/api/tasks/detail/{completed.Value.Id}/", completed.Value)
            : completed.Failure.WithStatus(completed.Failure.Status is 409 or 415 ? 400 : completed.Failure.Status).ToProblem();
    }

    internal static async Task<Results<Ok<SeedProfile>, ProblemHttpResult>> Profile(ClaimsPrincipal caller, AccountService accounts, RewardsService rewards, CancellationToken cancellationToken)
    {
        var user = await accounts.FindAsync(caller.UserId()!.Value, cancellationToken);
        return user is null
            ? AuthResponses.NoSession.ToProblem()
            : TypedResults.Ok(new SeedProfile(user.Id, user.UserName ?? "", user.Email, await rewards.BalanceAsync(user.Id, cancellationToken)));
    }

    internal static async Task<Ok<List<CompletionResponse>>> ListTasks(ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        TypedResults.Ok(await rewards.CompletionsOfAsync(caller.UserId()!.Value, cancellationToken));

    internal static async Task<Ok<SeedTotalPoints>> TotalPoints(ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SeedTotalPoints(await rewards.BalanceAsync(caller.UserId()!.Value, cancellationToken)));

    internal static async Task<Results<Created<AdminAppResponse>, ProblemHttpResult>> CreateApp(AppRequest request, AppsAdmin admin, CancellationToken cancellationToken)
    {
        var created = await admin.CreateAsync(request, cancellationToken);
        return created.Succeeded
            ? TypedResults.Created($"/api/apps/detail/{created.Value.Id}/", created.Value)
            : AsBadRequest(created.Failure).ToProblem();
    }

    /// <summary>
    /// A Django REST framework update: the fields sent replace the app's, the fields left out keep their values (a
    /// name, link and points alone do not erase the description and category): a merge patch.
    /// </summary>
    internal static async Task<Results<Ok<AdminAppResponse>, ProblemHttpResult>> UpdateApp(
        long app_id, JsonElement request, AppsAdmin admin, CancellationToken cancellationToken)
    {
        var updated = await admin.PatchAsync(app_id, request, cancellationToken);
        return updated.Succeeded ? TypedResults.Ok(updated.Value) : AsBadRequest(updated.Failure).ToProblem();
    }

    internal static async Task<Results<Ok<SeedDeleted>, ProblemHttpResult>> DeleteApp(long app_id, AppsAdmin admin, CancellationToken cancellationToken) =>
        await admin.DeleteAsync(app_id, cancellationToken) is { } failure
            ? failure.ToProblem()
            : TypedResults.Ok(new SeedDeleted("App deleted successfully."));

    internal static async Task<Results<Ok<CompletionResponse>, ProblemHttpResult>> GetTask(long task_id, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.FindCompletionAsync(task_id, cancellationToken) is { } task
            ? TypedResults.Ok(task)
            : Failure.NotFound($"Task {task_id}").ToProblem();

    internal static async Task<Results<Ok<SeedDeleted>, ProblemHttpResult>> DeleteTask(long task_id, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.DeleteCompletionAsync(task_id, cancellationToken) is { } failure
            ? failure.ToProblem()
            : TypedResults.Ok(new SeedDeleted("Task deleted successfully."));

    /// <summary>The seed lists 400 for every invalid request parameter, a taken name included.</summary>
    private static Failure AsBadRequest(Failure failure) =>
        failure.Status == 409 ? new Failure(400, ProblemCodes.ValidationFailed, failure.Detail, failure.Errors) : failure;

    /// <summary>
    /// The admin routes of seed 000 answer 401 "Admin access required." to a caller who is not an admin (the seed's
    /// list, where the product API would say 403): checked once, for the whole group.
    /// </summary>
    private static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.User.IsAdmin()
            ? await next(context)
            : Problems.Create(401, ProblemCodes.Unauthorized, "Admin access required.");
}
