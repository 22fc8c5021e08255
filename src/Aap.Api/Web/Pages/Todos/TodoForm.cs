using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using Aap.Api.Features.Todos;
using Aap.Api.Platform.Http;

namespace Aap.Api.Web.Pages.Todos;

/// <summary>
/// A to-do as its forms post it (text, so that a bad date is a field error, not a binding failure), checked by the same
/// attributes as the API's <see cref="TodoRequest"/> before it reaches <see cref="TodoService"/>.
/// </summary>
internal sealed class TodoInput
{
    public string? Title { get; set; }

    public string? Description { get; set; }

    public string? Status { get; set; }

    public string? Priority { get; set; }

    public string? DueDate { get; set; }

    public static TodoInput Of(TodoResponse task) => new()
    {
        Title = task.Title,
        Description = task.Description,
        Status = TodoForm.Wire(task.Status),
        Priority = TodoForm.Wire(task.Priority),
        DueDate = task.DueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    /// <summary>The request, or the field errors (keyed like the API's: <c>title</c>, <c>due_date</c>).</summary>
    public Result<TodoRequest> ToRequest()
    {
        var errors = new FieldErrors();
        TodoStatus? status = null;
        if (!string.IsNullOrEmpty(Status))
        {
            status = WireEnum.Parse<TodoStatus>(Status);
            if (status is null)
            {
                errors.Add("status", "Choose pending, in progress or completed.");
            }
        }

        TodoPriority? priority = null;
        if (!string.IsNullOrEmpty(Priority))
        {
            priority = WireEnum.Parse<TodoPriority>(Priority);
            if (priority is null)
            {
                errors.Add("priority", "Choose low, normal or high.");
            }
        }

        DateOnly? due = null;
        if (!string.IsNullOrWhiteSpace(DueDate))
        {
            if (DateOnly.TryParseExact(DueDate.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                due = date;
            }
            else
            {
                errors.Add("due_date", "Give the due date as a date (YYYY-MM-DD).");
            }
        }

        var request = new TodoRequest(Title, string.IsNullOrWhiteSpace(Description) ? null : Description, status, priority, due);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true);
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames)
            {
                errors.Add(JsonNamingPolicy.SnakeCaseLower.ConvertName(member), result.ErrorMessage ?? "This value is not valid.");
            }
        }

        return errors.Count > 0 ? Failure.Invalid(errors) : request;
    }
}

/// <summary>The choices the to-do forms offer, with their wire names (<c>in_progress</c>) and their labels.</summary>
internal static class TodoForm
{
    public static readonly IReadOnlyList<(string Value, string Label)> Statuses =
        [("pending", "Pending"), ("in_progress", "In progress"), ("completed", "Completed")];

    public static readonly IReadOnlyList<(string Value, string Label)> Priorities = [("low", "Low"), ("normal", "Normal"), ("high", "High")];

    public static readonly IReadOnlyList<(string Value, string Label)> Sorts =
        [("-created_at", "Newest first"), ("created_at", "Oldest first"), ("due_date", "Due date"), ("-priority", "Priority, high first"), ("title", "Title")];

    public static string Wire<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static string LabelOf(IReadOnlyList<(string Value, string Label)> choices, string value) =>
        choices.FirstOrDefault(c => c.Value == value).Label ?? value;
}

/// <summary>A labelled <c>select</c> of the to-do forms (<c>_TodoSelect.cshtml</c>); <paramref name="Any"/> names an empty first choice.</summary>
internal sealed record TodoSelect(string Name, string Id, string Label, IReadOnlyList<(string Value, string Label)> Choices, string? Value, string? Error = null, string? Any = null);
