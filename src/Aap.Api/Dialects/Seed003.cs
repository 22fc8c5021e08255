using System.Globalization;
using System.Security.Claims;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Todos;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Dialects;

internal sealed record SeedMessage(string Message);

internal sealed record SeedAccessToken(string AccessToken);

/// <summary>Seed 003's task API: a partial update of title, description and status.</summary>
public sealed record SeedTaskUpdateRequest(string? Title, string? Description, TodoStatus? Status);

internal sealed record SeedTaskMessage(string Message);

/// <summary>
/// Seed 003, the task management API, exactly as its Postman guide describes: <c>/register</c> and <c>/login</c>, and
/// <c>/tasks</c> with bare JSON bodies and <c>{"message": ...}</c> answers, over the same service as
/// <c>/api/v1/todos</c>. Lists are a JSON array, paged by <c>page</c> and <c>per_page</c> (default 20), oldest first,
/// with <c>X-Total-Count</c> and <c>Link</c> headers.
/// </summary>
internal static class Seed003
{
    public static IEndpointRouteBuilder MapSeed003(this IEndpointRouteBuilder endpoints)
    {
        var auth = endpoints.MapGroup("").WithTags("Seed dialects").ProducesProblem(400);
        auth.MapPost("/register", TaskApiRegister).WithName("SeedTaskApiRegister").RequireRateLimiting(AuthRateLimit.Register)
            .WithSummary("Seed 003 register: {\"username\", \"password\"} -> 201 {\"message\": \"User created successfully\"}.");
        auth.MapPost("/login", TaskApiLogin).WithName("SeedTaskApiLogin").RequireRateLimiting(AuthRateLimit.Login)
            .WithSummary("Seed 003 login: {\"username\", \"password\"} -> {\"access_token\"} alone, no refresh token.");

        var tasks = endpoints.MapGroup("/tasks").WithTags("Seed dialects").RequireAuthorization().ProducesProblem(400).ProducesProblem(401);
        tasks.MapPost("", Create).WithName("SeedCreateTask")
            .WithSummary("Seed 003 task creation: a bare body -> 201 {\"message\": \"Task created successfully\"}.");
        tasks.MapGet("", List).WithName("SeedListTasks")
            .WithSummary("Seed 003 task list: a bare array, oldest first, paged by page and per_page, with X-Total-Count.");
        tasks.MapGet("/{id}", Get).WithName("SeedGetTask").ProducesProblem(404)
            .WithSummary("Seed 003 task: one of the caller's tasks, without the envelope.");
        tasks.MapPut("/{id}", Update).WithName("SeedUpdateTask").Accepts<SeedTaskUpdateRequest>("application/json").ProducesProblem(404)
            .WithSummary("Seed 003 task update: the fields sent (title, description, status) change -> {\"message\"}.");
        tasks.MapDelete("/{id}", Delete).WithName("SeedDeleteTask").ProducesProblem(404)
            .WithSummary("Seed 003 task deletion: soft-deletes -> {\"message\": \"Task deleted successfully\"}.");
        return endpoints;
    }

    // Seed 003: {"username","password"} -> 201 {"message": "User created successfully"}.
    internal static async Task<Results<Created<SeedMessage>, ProblemHttpResult>> TaskApiRegister(
        SeedRegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var registered = await accounts.RegisterAsync(request.Email, request.Username, request.Password, Roles.User, cancellationToken);
        return registered.Succeeded
            ? TypedResults.Created("/api/me/", new SeedMessage("User created successfully"))
            : registered.Failure.ToProblem();
    }

    // Seed 003: -> {"access_token": ...}.
    internal static async Task<Results<Ok<SeedAccessToken>, ProblemHttpResult>> TaskApiLogin(
        SeedLoginRequest request, AccountService accounts, TokenService tokens, HttpContext context, CancellationToken cancellationToken)
    {
        var check = await accounts.AuthenticateAsync(request.Username ?? request.Email, request.Password, context.Connection.RemoteIpAddress, cancellationToken);
        if (!check.Succeeded)
        {
            return AuthResponses.Refused(context, check.Failure);
        }

        // This dialect has no refresh token: none is stored that no client could ever use or revoke.
        var (access, _) = await tokens.IssueAccessOnlyAsync(check.Value, TokenDialects.Seed, cancellationToken);
        AuthResponses.NoStore(context);
        return TypedResults.Ok(new SeedAccessToken(access));
    }

    internal static async Task<Created<SeedTaskMessage>> Create(
        TodoRequest request, ClaimsPrincipal caller, TodoService todos, CancellationToken cancellationToken)
    {
        var created = await todos.CreateAsync(caller.UserId()!.Value, request, cancellationToken);
        return TypedResults.Created($"/tasks/{created.Task.Id}", new SeedTaskMessage("Task created successfully"));
    }

    internal static async Task<Ok<List<TodoResponse>>> List(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var page = await todos.ListInCreationOrder(caller.UserId()!.Value).ToPageAsync(paging, context, cancellationToken);
        context.Response.Headers["X-Total-Count"] = page.Value!.Meta.Total.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(page.Value.Data.ToList());
    }

    internal static async Task<Results<Ok<TodoResponse>, ProblemHttpResult>> Get(
        long id, ClaimsPrincipal caller, TodoService todos, CancellationToken cancellationToken) =>
        await todos.FindAsync(caller.UserId()!.Value, id, cancellationToken) is { } found
            ? TypedResults.Ok(found.Task)
            : Failure.NotFound($"Task {id}").ToProblem();

    internal static async Task<Results<Ok<SeedTaskMessage>, ProblemHttpResult>> Update(
        long id, System.Text.Json.JsonElement request, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var updated = await todos.PatchAsync(caller.UserId()!.Value, id, request, context.Request.Headers.IfMatch, cancellationToken);
        return updated.Succeeded ? TypedResults.Ok(new SeedTaskMessage("Task updated successfully")) : updated.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<SeedTaskMessage>, ProblemHttpResult>> Delete(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        await todos.DeleteAsync(caller.UserId()!.Value, id, context.Request.Headers.IfMatch, cancellationToken) is { } failure
            ? failure.ToProblem()
            : TypedResults.Ok(new SeedTaskMessage("Task deleted successfully"));
}
