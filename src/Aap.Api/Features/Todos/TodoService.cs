using System.Globalization;
using System.Text;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Features.Todos;

internal enum TodoWrite
{
    Done,
    NotFound,
    Stale,
    Invalid,
}

/// <summary>The filters and order of a task listing.</summary>
internal sealed record TodoFilter(string? Status, string? Priority, string? Q, string? Sort, bool IncludeDeleted);

/// <summary>
/// To-do tasks, always within one owner: every query has the owner in its <c>WHERE</c>, so another user's task is
/// simply not found. Shared by the product API and the seed 003 routes.
/// </summary>
internal sealed class TodoService(AppDbContext db, TimeProvider clock)
{
    /// <summary>PostgreSQL text cannot hold U+0000, so a NUL would be a 500 there and stored silently on SQLite.</summary>
    private const string NoNul = "Text cannot contain the NUL character (U+0000).";

    public static readonly IReadOnlyDictionary<string, System.Linq.Expressions.Expression<Func<TodoTask, object?>>> SortFields =
        new Dictionary<string, System.Linq.Expressions.Expression<Func<TodoTask, object?>>>(StringComparer.Ordinal)
        {
            ["created_at"] = t => t.CreatedAt,
            ["due_date"] = t => t.DueDate,
            ["priority"] = t => t.Priority,
            ["title"] = t => t.Title,
        };

    public IQueryable<TodoTask> Owned(long ownerId, bool includeDeleted = false) =>
        (includeDeleted ? db.Set<TodoTask>().IgnoreQueryFilters([QueryFilters.SoftDelete]) : db.Set<TodoTask>()).Where(t => t.OwnerId == ownerId);

    /// <summary>The owner's tasks, filtered and ordered, or the field errors of the filter.</summary>
    public (IQueryable<TodoTask>? Query, FieldErrors Errors) List(long ownerId, TodoFilter filter)
    {
        var errors = new FieldErrors();
        var query = Owned(ownerId, filter.IncludeDeleted).AsNoTracking();
        if (filter.Status is not null)
        {
            if (WireEnum.Parse<TodoStatus>(filter.Status) is { } status)
            {
                query = query.Where(t => t.Status == status);
            }
            else
            {
                errors.Add("status", "Use pending, in_progress or completed.");
            }
        }

        if (filter.Priority is not null)
        {
            if (WireEnum.Parse<TodoPriority>(filter.Priority) is { } priority)
            {
                query = query.Where(t => t.Priority == priority);
            }
            else
            {
                errors.Add("priority", "Use low, normal or high.");
            }
        }

        if (filter.Q?.Contains('\0', StringComparison.Ordinal) == true)
        {
            errors.Add("q", NoNul);
        }
        else if (!string.IsNullOrWhiteSpace(filter.Q))
        {
            var term = filter.Q.Trim().ToUpperInvariant();
            query = query.Where(t => t.Title.ToUpper().Contains(term) || (t.Description != null && t.Description.ToUpper().Contains(term)));
        }

        var sort = string.IsNullOrWhiteSpace(filter.Sort) ? "-created_at" : filter.Sort.Trim();
        var descending = sort.StartsWith('-');
        if (!SortFields.TryGetValue(descending ? sort[1..] : sort, out var key))
        {
            errors.Add("sort", $"Sort by one of {string.Join(", ", SortFields.Keys)}, with '-' for descending.");
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (descending ? query.OrderByDescending(key!).ThenByDescending(t => t.Id) : query.OrderBy(key!).ThenBy(t => t.Id), errors);
    }

    public async Task<(TodoTask? Task, FieldErrors Errors)> CreateAsync(long ownerId, TodoRequest request, CancellationToken cancellationToken)
    {
        var task = new TodoTask { OwnerId = ownerId };
        var errors = Apply(task, request);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        db.Set<TodoTask>().Add(task);
        await db.SaveChangesAsync(cancellationToken);
        return (task, errors);
    }

    /// <summary>Replaces every field (PUT); fields left out take their defaults.</summary>
    public Task<(TodoWrite Outcome, TodoTask? Task, FieldErrors Errors)> ReplaceAsync(long ownerId, long id, TodoRequest request, string? ifMatch, CancellationToken cancellationToken) =>
        WriteAsync(ownerId, id, ifMatch, task => Apply(task, request), cancellationToken);

    /// <summary>Changes only the fields present in a JSON merge patch (RFC 7396); null clears an optional field.</summary>
    public Task<(TodoWrite Outcome, TodoTask? Task, FieldErrors Errors)> PatchAsync(long ownerId, long id, JsonElement patch, string? ifMatch, CancellationToken cancellationToken) =>
        WriteAsync(ownerId, id, ifMatch, task => Merge(task, patch), cancellationToken);

    public async Task<TodoWrite> DeleteAsync(long ownerId, long id, string? ifMatch, CancellationToken cancellationToken)
    {
        var (outcome, _, _) = await WriteAsync(ownerId, id, ifMatch, task =>
        {
            task.DeletedAt = clock.GetUtcNow().UtcDateTime;
            return new FieldErrors();
        }, cancellationToken);
        return outcome;
    }

    public async Task<TodoTask?> RestoreAsync(long ownerId, long id, CancellationToken cancellationToken)
    {
        var task = await Owned(ownerId, includeDeleted: true).SingleOrDefaultAsync(t => t.Id == id && t.DeletedAt != null, cancellationToken);
        if (task is null)
        {
            return null;
        }

        task.DeletedAt = null;
        await db.SaveChangesAsync(cancellationToken);
        return task;
    }

    public static string ETag(TodoTask task) => $"\"todo-{task.Id}-v{task.Version}\"";

    private async Task<(TodoWrite Outcome, TodoTask? Task, FieldErrors Errors)> WriteAsync(
        long ownerId, long id, string? ifMatch, Func<TodoTask, FieldErrors> change, CancellationToken cancellationToken)
    {
        var task = await Owned(ownerId).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null)
        {
            return (TodoWrite.NotFound, null, new FieldErrors());
        }

        if (!Matches(ifMatch, task))
        {
            return (TodoWrite.Stale, task, new FieldErrors());
        }

        var errors = change(task);
        if (errors.Count > 0)
        {
            return (TodoWrite.Invalid, task, errors);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another request changed it between our read and our write: the caller's view is stale.
            return (TodoWrite.Stale, task, errors);
        }

        return (TodoWrite.Done, task, errors);
    }

    private static bool Matches(string? ifMatch, TodoTask task)
    {
        if (string.IsNullOrWhiteSpace(ifMatch))
        {
            return true;
        }

        var current = new EntityTagHeaderValue(ETag(task));
        return EntityTagHeaderValue.TryParseList([ifMatch], out var tags) &&
               tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: true));
    }

    private FieldErrors Apply(TodoTask task, TodoRequest request)
    {
        var errors = new FieldErrors();
        var title = CleanTitle(request.Title, errors);
        var description = CleanDescription(request.Description, errors);
        if (errors.Count > 0)
        {
            return errors;
        }

        task.Title = title!;
        task.Description = description;
        task.Priority = request.Priority ?? TodoPriority.Normal;
        task.DueDate = request.DueDate;
        task.SetStatus(request.Status ?? TodoStatus.Pending, clock.GetUtcNow().UtcDateTime);
        return errors;
    }

    private FieldErrors Merge(TodoTask task, JsonElement patch)
    {
        var errors = new FieldErrors();
        if (patch.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", MergePatch.NotAnObject);
            return errors;
        }

        string? title = null, description = task.Description;
        TodoStatus? status = null;
        TodoPriority? priority = null;
        var dueDate = task.DueDate;
        foreach (var field in patch.EnumerateObject())
        {
            var value = field.Value;
            var text = value.ValueKind == JsonValueKind.String ? MergePatch.Text(value.GetString) : null;
            switch (MergePatch.Text(() => field.Name))
            {
                case "title":
                    title = text is not null ? CleanTitle(text, errors) : Invalid(errors, "title", "The title is a string of 1 to 200 characters.");
                    break;
                case "description":
                    description = value.ValueKind == JsonValueKind.Null ? null
                        : text is not null ? CleanDescription(text, errors)
                        : Invalid(errors, "description", "The description is a string or null.");
                    break;
                case "status":
                    status = text is null ? null : WireEnum.Parse<TodoStatus>(text);
                    if (status is null)
                    {
                        errors.Add("status", "Use pending, in_progress or completed.");
                    }

                    break;
                case "priority":
                    priority = text is null ? null : WireEnum.Parse<TodoPriority>(text);
                    if (priority is null)
                    {
                        errors.Add("priority", "Use low, normal or high.");
                    }

                    break;
                case "due_date":
                    if (value.ValueKind == JsonValueKind.Null)
                    {
                        dueDate = null;
                    }
                    else if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                    {
                        dueDate = parsed;
                    }
                    else
                    {
                        errors.Add("due_date", "The due date is a date like 2026-12-31, or null.");
                    }

                    break;
            }
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        task.Title = title ?? task.Title;
        task.Description = description;
        task.Priority = priority ?? task.Priority;
        task.DueDate = dueDate;
        if (status is { } newStatus)
        {
            task.SetStatus(newStatus, clock.GetUtcNow().UtcDateTime);
        }

        return errors;
    }

    private static string? CleanTitle(string? raw, FieldErrors errors)
    {
        var title = raw?.Trim().Normalize(NormalizationForm.FormC);
        if (string.IsNullOrEmpty(title))
        {
            errors.Add("title", "A title is required.");
        }
        else if (title.Length > TodoTask.TitleMaxLength)
        {
            errors.Add("title", $"A title has at most {TodoTask.TitleMaxLength} characters.");
        }
        else if (title.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add("title", NoNul);
        }

        return title;
    }

    private static string? CleanDescription(string? raw, FieldErrors errors)
    {
        var description = string.IsNullOrWhiteSpace(raw) ? null : raw.Trim();
        if (description?.Length > TodoTask.DescriptionMaxLength)
        {
            errors.Add("description", $"A description has at most {TodoTask.DescriptionMaxLength} characters.");
        }
        else if (description?.Contains('\0', StringComparison.Ordinal) == true)
        {
            errors.Add("description", NoNul);
        }

        return description;
    }

    private static string? Invalid(FieldErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return null;
    }

}
