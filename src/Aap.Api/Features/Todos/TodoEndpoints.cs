using System.Security.Claims;
using System.Text.Json;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Todos;

/// <summary>The product API of personal to-do tasks: <c>/api/v1/todos</c>, and the admins' view of a user's tasks.</summary>
internal static class TodoEndpoints
{
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var todos = endpoints.MapGroup("/api/v1/todos").WithTags("Todos").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401);
        todos.MapGet("", List).WithName("ListTodos").PagesByKeyset<TodoResponse>()
            .WithSummary("The caller's tasks, paged. Filters: status, priority, q; sort: created_at, due_date, priority, title (- for descending); include_deleted. By cursor: sort=-created_at (the default) only.");
        todos.MapPost("", Create).WithName("CreateTodo").WithSummary("Create a task.");
        todos.MapGet("/{id}", Get).WithName("GetTodo").WithSummary("One task, with an ETag.").ProducesProblem(404);
        todos.MapPut("/{id}", Replace).WithName("ReplaceTodo").WithSummary("Replace a task; If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapPatch("/{id}", Patch).WithName("PatchTodo").Accepts<JsonElement>(MergePatch.MediaType, "application/json")
            .WithSummary("Change the fields sent (JSON merge patch); If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapDelete("/{id}", Delete).WithName("DeleteTodo").WithSummary("Soft-delete a task; If-Match is honoured.").ProducesProblem(404).ProducesProblem(412);
        todos.MapPost("/{id}/restore", Restore).WithName("RestoreTodo").WithSummary("Bring back a deleted task.").ProducesProblem(404);

        endpoints.MapGet("/api/v1/admin/users/{id}/todos", ListForUser).WithName("ListUserTodos").WithTags("Admin: todos")
            .RequireAuthorization(Policies.Admin).ProducesProblem(401).ProducesProblem(403).PagesByKeyset<TodoResponse>()
            .WithSummary("Any user's tasks, with the same paging (page numbers or cursor), filters and sorting.");
        return endpoints;
    }

    internal static Task<Results<Ok<KeysetEnvelope<TodoResponse>>, Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery paging, [AsParameters] TodoListQuery query, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        PageAsync(caller.UserId()!.Value, paging, query, todos, context, cancellationToken);

    internal static Task<Results<Ok<KeysetEnvelope<TodoResponse>>, Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> ListForUser(
        long id, [AsParameters] PageQuery paging, [AsParameters] TodoListQuery query, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        PageAsync(id, paging, query, todos, context, cancellationToken);

    internal static async Task<Created<Envelope<TodoResponse>>> Create(
        TodoRequest request, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        var created = await todos.CreateAsync(caller.UserId()!.Value, request, cancellationToken);
        context.Response.Headers.ETag = created.ETag;
        return TypedResults.Created($"/api/v1/todos/{created.Task.Id}", new Envelope<TodoResponse>(created.Task));
    }

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Get(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Answer(await todos.FindAsync(caller.UserId()!.Value, id, cancellationToken) ?? (Result<TodoVersion>)Failure.NotFound($"Task {id}"), context);

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Replace(
        long id, TodoRequest request, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Answer(await todos.ReplaceAsync(caller.UserId()!.Value, id, request, context.Request.Headers.IfMatch, cancellationToken), context);

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Patch(
        long id, JsonElement patch, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Answer(await todos.PatchAsync(caller.UserId()!.Value, id, patch, context.Request.Headers.IfMatch, cancellationToken), context);

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        await todos.DeleteAsync(caller.UserId()!.Value, id, context.Request.Headers.IfMatch, cancellationToken) is { } failure
            ? failure.ToProblem()
            : TypedResults.NoContent();

    internal static async Task<Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult>> Restore(
        long id, ClaimsPrincipal caller, TodoService todos, HttpContext context, CancellationToken cancellationToken) =>
        Answer(await todos.RestoreAsync(caller.UserId()!.Value, id, cancellationToken), context);

    private static async Task<Results<Ok<KeysetEnvelope<TodoResponse>>, Ok<PagedEnvelope<TodoResponse>>, ProblemHttpResult>> PageAsync(
        long ownerId, PageQuery paging, TodoListQuery query, TodoService todos, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await todos.ListAsync(ownerId, query.Filter, keyset, cancellationToken);
            return slice.Succeeded ? Keyset.Ok(context, slice.Value) : slice.Failure.ToProblem();
        }

        var page = await todos.ListAsync(ownerId, query.Filter, paging, cancellationToken);
        if (!page.Succeeded)
        {
            return page.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, page.Value.Meta);
        return TypedResults.Ok(page.Value);
    }

    /// <summary>The task with its ETag, or the failure as a problem.</summary>
    private static Results<Ok<Envelope<TodoResponse>>, ProblemHttpResult> Answer(Result<TodoVersion> result, HttpContext context)
    {
        if (!result.Succeeded)
        {
            return result.Failure.ToProblem();
        }

        context.Response.Headers.ETag = result.Value.ETag;
        return TypedResults.Ok(new Envelope<TodoResponse>(result.Value.Task));
    }
}
