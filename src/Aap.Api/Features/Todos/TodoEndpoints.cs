using System.Security.Claims;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Todos;

/// <summary>The query of a task listing; public so that the validation generator sees it.</summary>
public sealed record TodoListQuery(
    [property: FromQuery(Name = "status")] string? Status,
    [property: FromQuery(Name = "priority")] string? Priority,
    [property: FromQuery(Name = "q")] string? Q,
    [property: FromQuery(Name = "sort")] string? Sort,
    [property: FromQuery(Name = "include_deleted")] bool? IncludeDeleted)
{
    internal TodoFilter Filter => new(Status, Priority, Q, Sort, IncludeDeleted ?? false);
}

/// <summary>The product API of personal to-do tasks: <c>/api/v1/todos</c>, and the admins' view of a user's tasks.</summary>
internal static class TodoEndpoints
{
    public static IServiceCollection AddTodosFeature(this IServiceCollection services) => services.AddScoped<TodoService>();

    public static IEndpointRouteBuilder MapTodoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var todos = endpoints.MapGroup("/api/v1/todos").WithTags("Todos").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401);
        todos.MapGet("", List).WithName("ListTodos")
            .WithSummary("The caller's tasks, paged. Filters: status, priority, q; sort: created_at, due_date, priority, title (- for descending); include_deleted.");
        todos.MapPost("", Create).WithName("CreateTodo").WithSummary("Create a task.");
        todos.MapGet("/{id}", Get).WithName("GetTodo").WithSummary("One task, with an ETag.").ProducesProblem(404);
        todos.MapPut("/{id}", Replace).WithName("ReplaceTodo").WithSummary("Replace a task; If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapPatch("/{id}", Patch).WithName("PatchTodo").Accepts<JsonElement>(MergePatch.MediaType, "application/json")
            .WithSummary("Change the fields sent (JSON merge patch); If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapDelete("/{id}", Delete).WithName("DeleteTodo").WithSummary("Soft-delete a task; If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapPost("/{id}/restore", Restore).WithName("RestoreTodo").WithSummary("Bring back a deleted task.").ProducesProblem(404);

        endpoints.MapGet("/api/v1/admin/users/{id}/todos", ListForUser).WithName("ListUserTodos").WithTags("Admin: todos")
            .RequireAuthorization(Policies.Admin).ProducesProblem(401).ProducesProblem(403)
            .WithSummary("Any user's tasks, with the same paging, filters and sorting.");
        return endpoints;
    }

    internal static async Task<Results<Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery paging, [AsParameters] TodoListQuery query, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        await PageAsync(caller.UserId()!.Value, paging, query, todos, context, cancellationToken);

    internal static async Task<Results<Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> ListForUser(
        long id, [AsParameters] PageQuery paging, [AsParameters] TodoListQuery query, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        await PageAsync(id, paging, query, todos, context, cancellationToken);

    internal static async Task<Results<Created<Envelope<TodoResponse>>, ProblemHttpResult>> Create(
        TodoRequest request, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var (task, errors) = await todos.CreateAsync(caller.UserId()!.Value, request, cancellationToken);
        if (task is null)
        {
            return Invalid(errors);
        }

        context.Response.Headers.ETag = TodoService.ETag(task);
        return TypedResults.Created($"/api/v1/todos/{task.Id}", new Envelope<TodoResponse>(TodoResponse.From(task)));
    }

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Get(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var task = await todos.Owned(caller.UserId()!.Value).AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound($"Task {id}");
        }

        context.Response.Headers.ETag = TodoService.ETag(task);
        return TypedResults.Ok(new Envelope<TodoResponse>(TodoResponse.From(task)));
    }

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Replace(
        long id, TodoRequest request, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Written(await todos.ReplaceAsync(caller.UserId()!.Value, id, request, context.Request.Headers.IfMatch, cancellationToken), id, context);

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Patch(
        long id, JsonElement patch, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Written(await todos.PatchAsync(caller.UserId()!.Value, id, patch, context.Request.Headers.IfMatch, cancellationToken), id, context);

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        await todos.DeleteAsync(caller.UserId()!.Value, id, context.Request.Headers.IfMatch, cancellationToken) switch
        {
            TodoWrite.Done => TypedResults.NoContent(),
            TodoWrite.Stale => Stale(),
            _ => Problems.NotFound($"Task {id}"),
        };

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Restore(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var task = await todos.RestoreAsync(caller.UserId()!.Value, id, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound($"Deleted task {id}");
        }

        context.Response.Headers.ETag = TodoService.ETag(task);
        return TypedResults.Ok(new Envelope<TodoResponse>(TodoResponse.From(task)));
    }

    private static async Task<Results<Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> PageAsync(
        long ownerId, PageQuery paging, TodoListQuery query, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var (tasks, errors) = todos.List(ownerId, query.Filter);
        return tasks is null ? Invalid(errors) : await tasks.Select(TodoResponse.Projection).ToPageAsync(paging, context, cancellationToken);
    }

    private static Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult> Written(
        (TodoWrite Outcome, TodoTask? Task, FieldErrors Errors) result, long id, HttpContext context)
    {
        switch (result.Outcome)
        {
            case TodoWrite.Done:
                context.Response.Headers.ETag = TodoService.ETag(result.Task!);
                return TypedResults.Ok(new Envelope<TodoResponse>(TodoResponse.From(result.Task!)));
            case TodoWrite.Invalid:
                return Invalid(result.Errors);
            case TodoWrite.Stale:
                return Stale();
            default:
                return Problems.NotFound($"Task {id}");
        }
    }

    internal static ProblemHttpResult Invalid(FieldErrors errors) =>
        Problems.Create(400, ProblemCodes.ValidationFailed, "One or more fields are invalid.", errors);

    private static ProblemHttpResult Stale() =>
        Problems.Create(412, ProblemCodes.PreconditionFailed, "The task changed since you read it (If-Match does not match its ETag); read it again.");
}
