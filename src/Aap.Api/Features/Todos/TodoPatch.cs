using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Aap.Api.Platform.Http;

namespace Aap.Api.Features.Todos;

/// <summary>
/// A JSON merge patch of a task (RFC 7396), read and checked: the fields sent, under the same rules as a
/// <see cref="TodoRequest"/> (its attributes are read from it, not copied), <c>null</c> clearing an optional field,
/// the rest left as they are. Unknown fields are ignored, as in every other body.
/// </summary>
internal sealed class TodoPatch
{
    private static readonly StoredTextAttribute TitleRule = RuleOf(nameof(TodoRequest.Title));
    private static readonly StoredTextAttribute DescriptionRule = RuleOf(nameof(TodoRequest.Description));

    private string? _title;
    private (bool Sent, string? Value) _description;
    private TodoStatus? _status;
    private TodoPriority? _priority;
    private (bool Sent, DateOnly? Value) _dueDate;

    /// <summary>The patch, or the errors of every field it cannot take (400).</summary>
    public static Result<TodoPatch> Parse(JsonElement patch)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return Failure.Invalid("body", MergePatch.NotAnObject);
        }

        var errors = new FieldErrors();
        var parsed = new TodoPatch();
        foreach (var field in patch.EnumerateObject())
        {
            var value = field.Value;
            var text = value.ValueKind == JsonValueKind.String ? MergePatch.Text(value.GetString) : null;
            switch (MergePatch.Text(() => field.Name))
            {
                case "title":
                    parsed._title = text is null ? Invalid(errors, "title", "The title is a string of 1 to 200 characters.")
                        : string.IsNullOrWhiteSpace(text) ? Invalid(errors, "title", TodoRequest.TitleRequired)
                        : Checked(errors, "title", text, TitleRule);
                    break;
                case "description":
                    parsed._description = (true, value.ValueKind == JsonValueKind.Null ? null
                        : text is not null ? Checked(errors, "description", text, DescriptionRule)
                        : Invalid(errors, "description", "The description is a string or null."));
                    break;
                case "status":
                    parsed._status = text is null ? null : WireEnum.Parse<TodoStatus>(text);
                    if (parsed._status is null)
                    {
                        errors.Add("status", "Use pending, in_progress or completed.");
                    }

                    break;
                case "priority":
                    parsed._priority = text is null ? null : WireEnum.Parse<TodoPriority>(text);
                    if (parsed._priority is null)
                    {
                        errors.Add("priority", "Use low, normal or high.");
                    }

                    break;
                case "due_date":
                    if (value.ValueKind == JsonValueKind.Null)
                    {
                        parsed._dueDate = (true, null);
                    }
                    else if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var dueDate))
                    {
                        parsed._dueDate = (true, dueDate);
                    }
                    else
                    {
                        errors.Add("due_date", "The due date is a date like 2026-12-31, or null.");
                    }

                    break;
            }
        }

        return errors.Count > 0 ? Failure.Invalid(errors) : parsed;
    }

    /// <summary>Changes the fields the patch sent; a new status moves <c>completed_at</c> as a full write does.</summary>
    public void ApplyTo(TodoTask task, DateTime now)
    {
        task.Title = _title ?? task.Title;
        task.Description = _description.Sent ? _description.Value : task.Description;
        task.Priority = _priority ?? task.Priority;
        task.DueDate = _dueDate.Sent ? _dueDate.Value : task.DueDate;
        if (_status is { } status)
        {
            task.SetStatus(status, now);
        }
    }

    /// <summary>The value as stored, or null with the rule's error added.</summary>
    private static string? Checked(FieldErrors errors, string field, string text, StoredTextAttribute rule) =>
        rule.Check(text) is { } error ? Invalid(errors, field, error) : StoredTextAttribute.Clean(text, rule.Normalize);

    private static string? Invalid(FieldErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return null;
    }

    private static StoredTextAttribute RuleOf(string property) =>
        typeof(TodoRequest).GetProperty(property)!.GetCustomAttribute<StoredTextAttribute>()!;
}
