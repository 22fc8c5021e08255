namespace Aap.Api.Features.Todos;

/// <summary>A new task, or the full replacement of one (PUT): fields left out take their defaults.</summary>
public sealed record TodoRequest(string? Title, string? Description, TodoStatus? Status, TodoPriority? Priority, DateOnly? DueDate);

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
    public static readonly System.Linq.Expressions.Expression<Func<TodoTask, TodoResponse>> Projection = t =>
        new TodoResponse(t.Id, t.Title, t.Description, t.Status, t.Priority, t.DueDate, t.CompletedAt, t.CreatedAt, t.UpdatedAt, t.DeletedAt);

    private static readonly Func<TodoTask, TodoResponse> FromEntity = Projection.Compile();

    public static TodoResponse From(TodoTask task) => FromEntity(task);
}
