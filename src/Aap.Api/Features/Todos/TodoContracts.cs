using System.ComponentModel.DataAnnotations;
using System.Linq.Expressions;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Features.Todos;

/// <summary>
/// A new task, or the full replacement of one (PUT): fields left out take their defaults. Validated before the handler
/// runs (public so that the validation generator sees it); the PATCH of a task applies the same rules to the fields it
/// sends (<see cref="TodoPatch"/>).
/// </summary>
[FeatureSurface]
public sealed record TodoRequest(
    [property: Required(ErrorMessage = TodoRequest.TitleRequired)]
    [property: StoredText(TodoTask.TitleMaxLength, Normalize = true, ErrorMessage = "A title has at most {1} characters.")]
    string? Title,
    [property: StoredText(TodoTask.DescriptionMaxLength, ErrorMessage = "A description has at most {1} characters.")]
    string? Description,
    TodoStatus? Status,
    TodoPriority? Priority,
    DateOnly? DueDate)
{
    internal const string TitleRequired = "A title is required.";
}

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

/// <summary>
/// The filters and order of a task listing, as the query string gave them; <paramref name="OnlyDeleted"/> lists the
/// deleted tasks alone (the pages' "Deleted" view, where they are restored).
/// </summary>
[FeatureSurface]
internal sealed record TodoFilter(string? Status, string? Priority, string? Q, string? Sort, bool IncludeDeleted, bool OnlyDeleted = false);

/// <summary>A task as the API shows it.</summary>
[FeatureSurface]
internal sealed record TodoResponse(
    long Id,
    string Title,
    string? Description,
    TodoStatus Status,
    TodoPriority Priority,
    DateOnly? DueDate,
    DateTime? CompletedAt,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? DeletedAt)
{
    public static readonly Expression<Func<TodoTask, TodoResponse>> Projection = t =>
        new TodoResponse(t.Id, t.Title, t.Description, t.Status, t.Priority, t.DueDate, t.CompletedAt, t.CreatedAt, t.UpdatedAt, t.DeletedAt);

    private static readonly Func<TodoTask, TodoResponse> FromEntity = Projection.Compile();

    public static TodoResponse From(TodoTask task) => FromEntity(task);
}

/// <summary>A task as it is now, with the entity tag of this version (for <c>ETag</c>, and <c>If-Match</c> on the next write).</summary>
[FeatureSurface]
internal sealed record TodoVersion(TodoResponse Task, string ETag)
{
    public static TodoVersion Of(TodoTask task) => new(TodoResponse.From(task), TodoETag.Of(task));
}
