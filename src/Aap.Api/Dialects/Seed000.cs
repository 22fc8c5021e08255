using System.Security.Claims;
using System.Text.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

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
        auth.MapPost("/signup/", Signup).WithName("SeedSignup").RequireRateLimiting(AuthRateLimit.Policy);
        auth.MapPost("/token/user/", TokenForUser).WithName("SeedTokenUser").RequireRateLimiting(AuthRateLimit.Policy);
        auth.MapPost("/token/admin/", TokenForAdmin).WithName("SeedTokenAdmin").RequireRateLimiting(AuthRateLimit.Policy);
        auth.MapPost("/token/refresh/", TokenRefresh).WithName("SeedTokenRefresh").RequireRateLimiting(AuthRateLimit.Policy);

        var seed = endpoints.MapGroup("/api").WithTags("Seed dialects").WithTrailingSlash().RequireAuthorization().ProducesProblem(401);
        seed.MapGet("/apps/list/", ListApps).WithName("ProblemSet2ListApps");
        seed.MapGet("/apps/detail/{app_id}/", GetApp).WithName("ProblemSet2GetApp").ProducesProblem(404);
        // No Accepts(): its content-type check would answer 415 before the handler, and the seed lists 400 for any
        // invalid request. The multipart body is described to OpenAPI by hand instead.
        seed.MapPost("/apps/detail/{app_id}/", CompleteApp).WithName("ProblemSet2CompleteApp").DisableAntiforgery()
            .AddOpenApiOperationTransformer(DescribeScreenshotBody).ReadsMultipartUpload().ProducesProblem(404);
        seed.MapGet("/profile/", Profile).WithName("ProblemSet2Profile");
        seed.MapGet("/tasks/list/", ListTasks).WithName("ProblemSet2ListTasks");
        seed.MapGet("/total-points/", TotalPoints).WithName("ProblemSet2TotalPoints");
        seed.MapPost("/apps/create/", CreateApp).WithName("ProblemSet2CreateApp").ProducesProblem(400);
        seed.MapPut("/apps/update/{app_id}/", UpdateApp).WithName("ProblemSet2UpdateApp").Accepts<AppRequest>("application/json").ProducesProblem(400).ProducesProblem(404);
        seed.MapDelete("/apps/update/{app_id}/", DeleteApp).WithName("ProblemSet2DeleteApp").ProducesProblem(404);
        seed.MapGet("/tasks/detail/{task_id}/", GetTask).WithName("ProblemSet2GetTask").ProducesProblem(404);
        seed.MapDelete("/tasks/detail/{task_id}/", DeleteTask).WithName("ProblemSet2DeleteTask").ProducesProblem(404);
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

    internal static async Task<Ok<List<AppResponse>>> ListApps(AppDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.Set<App>().AsNoTracking().Where(a => a.IsActive).OrderBy(a => a.Id).Select(AppsEndpoints.Projection).ToListAsync(cancellationToken));

    internal static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> GetApp(long app_id, AppDbContext db, CancellationToken cancellationToken) =>
        await db.Set<App>().AsNoTracking().Where(a => a.Id == app_id && a.IsActive).Select(AppsEndpoints.Projection).SingleOrDefaultAsync(cancellationToken) is { } app
            ? TypedResults.Ok(app)
            : Problems.NotFound($"App {app_id}");

    private const string ExpectedBody = "A multipart/form-data body with the proof image as a file in a field named 'screenshot' (and optionally app_id) is expected.";

    private static Task DescribeScreenshotBody(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "screenshot" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["screenshot"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                            ["app_id"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    internal static async Task<Results<Created<CompletionResponse>, ProblemHttpResult>> CompleteApp(
        long app_id, HttpContext context, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return Problems.Create(400, ProblemCodes.ValidationFailed, ExpectedBody, new FieldErrors { { "screenshot", ExpectedBody } });
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        if (form.TryGetValue("app_id", out var bodyAppId) && bodyAppId.ToString() != app_id.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return Problems.Validation("app_id", "app_id in the body does not match the app in the URL.");
        }

        var (completion, error) = await rewards.CompleteAsync(caller.UserId()!.Value, app_id, form.Files.GetFile("screenshot"), cancellationToken);
        return error is not null
            ? (error with { Status = error.Status is 409 or 415 ? 400 : error.Status }).ToProblem()
            : TypedResults.Created($"/api/tasks/detail/{completion!.Id}/", CompletionResponse.From(completion));
    }

    internal static async Task<Results<Ok<SeedProfile>, ProblemHttpResult>> Profile(ClaimsPrincipal caller, AccountService accounts, RewardsService rewards, CancellationToken cancellationToken)
    {
        var user = await accounts.FindAsync(caller.UserId()!.Value, cancellationToken);
        return user is null
            ? AuthResponses.NoSession.ToProblem()
            : TypedResults.Ok(new SeedProfile(user.Id, user.UserName ?? "", user.Email, await rewards.BalanceAsync(user.Id, cancellationToken)));
    }

    internal static async Task<Ok<List<CompletionResponse>>> ListTasks(ClaimsPrincipal caller, AppDbContext db, CancellationToken cancellationToken)
    {
        var me = caller.UserId()!.Value;
        return TypedResults.Ok(await db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == me).OrderByDescending(c => c.Id)
            .Select(CompletionResponse.Projection).ToListAsync(cancellationToken));
    }

    internal static async Task<Ok<SeedTotalPoints>> TotalPoints(ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SeedTotalPoints(await rewards.BalanceAsync(caller.UserId()!.Value, cancellationToken)));

    internal static async Task<Results<Created<AdminAppResponse>, ProblemHttpResult>> CreateApp(
        AppRequest request, ClaimsPrincipal caller, AppDbContext db, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin())
        {
            return AdminRequired();
        }

        var app = new App { Link = "" };
        if ((await AppsAdminEndpoints.ApplyAsync(app, request, db, cancellationToken) ?? await SaveNewAsync(db, app, cache, cancellationToken)) is { } problem)
        {
            return AsBadRequest(problem);
        }

        return TypedResults.Created($"/api/apps/detail/{app.Id}/", await AppsAdminEndpoints.ToResponseAsync(db, app, cancellationToken));
    }

    /// <summary>
    /// A Django REST framework update: the fields sent replace the app's, the fields left out keep their values (a
    /// name, link and points alone do not erase the description and category).
    /// </summary>
    internal static async Task<Results<Ok<AdminAppResponse>, ProblemHttpResult>> UpdateApp(
        long app_id, JsonElement request, ClaimsPrincipal caller, AppDbContext db, AppsCatalogCache cache, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin())
        {
            return AdminRequired();
        }

        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == app_id, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"App {app_id}");
        }

        if ((await AppsAdminEndpoints.MergeAsync(app, request, db, json.Value.SerializerOptions, cancellationToken) ?? await AppsAdminEndpoints.SaveAsync(db, cache, cancellationToken)) is { } problem)
        {
            return AsBadRequest(problem);
        }

        return TypedResults.Ok(await AppsAdminEndpoints.ToResponseAsync(db, app, cancellationToken));
    }

    internal static async Task<Results<Ok<SeedDeleted>, ProblemHttpResult>> DeleteApp(
        long app_id, ClaimsPrincipal caller, AppDbContext db, AppsCatalogCache cache, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin())
        {
            return AdminRequired();
        }

        var result = await AppsAdminEndpoints.Delete(app_id, db, cache, clock, cancellationToken);
        return result.Result is NoContent ? TypedResults.Ok(new SeedDeleted("App deleted successfully.")) : Problems.NotFound($"App {app_id}");
    }

    internal static async Task<Results<Ok<CompletionResponse>, ProblemHttpResult>> GetTask(long task_id, ClaimsPrincipal caller, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin())
        {
            return AdminRequired();
        }

        return await db.Set<AppCompletion>().AsNoTracking().Where(c => c.Id == task_id).Select(CompletionResponse.Projection).SingleOrDefaultAsync(cancellationToken) is { } task
            ? TypedResults.Ok(task)
            : Problems.NotFound($"Task {task_id}");
    }

    internal static async Task<Results<Ok<SeedDeleted>, ProblemHttpResult>> DeleteTask(long task_id, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin())
        {
            return AdminRequired();
        }

        return await rewards.DeleteCompletionAsync(task_id, cancellationToken) is { } error
            ? error.ToProblem()
            : TypedResults.Ok(new SeedDeleted("Task deleted successfully."));
    }

    private static async Task<ProblemHttpResult?> SaveNewAsync(AppDbContext db, App app, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        db.Set<App>().Add(app);
        return await AppsAdminEndpoints.SaveAsync(db, cache, cancellationToken);
    }

    /// <summary>The seed lists 400 for every invalid request parameter, a taken name included.</summary>
    private static ProblemHttpResult AsBadRequest(ProblemHttpResult problem) =>
        problem.StatusCode == 409 ? Problems.Create(400, ProblemCodes.ValidationFailed, problem.ProblemDetails.Detail ?? "Invalid request parameters.",
            (problem.ProblemDetails.Extensions.TryGetValue("errors", out var errors) ? errors : null) as IDictionary<string, string[]>) : problem;

    private static ProblemHttpResult AdminRequired() =>
        Problems.Create(401, ProblemCodes.Unauthorized, "Admin access required.");
}
