namespace Aap.Api.Features.Todos;

/// <summary>The entity tag of a task's version: strong, and changed by every write (the row's version counter).</summary>
internal static class TodoETag
{
    public static string Of(TodoTask task) => $"\"todo-{task.Id}-v{task.Version}\"";
}
