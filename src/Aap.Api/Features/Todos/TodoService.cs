using System.Linq.Expressions;
using System.Text.Json;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Todos;

/// <summary>
/// To-do tasks, always within one owner: every query has the owner in its <c>WHERE</c>, so another user's task is
/// simply not found. Shared by the product API and the seed 003 routes. Requests reach it validated (their
/// attributes); what it checks itself is what only it knows: the task exists, and <c>If-Match</c> names its version.
/// </summary>
[FeatureSurface]
internal sealed class TodoService(AppDbContext db, TimeProvider clock)
{
    /// <summary>The answer to a write whose <c>If-Match</c> names another version than the current one.</summary>
    public static readonly Failure Stale = new(StatusCodes.Status412PreconditionFailed, ProblemCodes.PreconditionFailed,
        "The task changed since you read it (If-Match does not match its ETag); read it again.");

    private const string DefaultSort = "-created_at";

    private static readonly IReadOnlyDictionary<string, Expression<Func<TodoTask, object?>>> SortFields =
        new Dictionary<string, Expression<Func<TodoTask, object?>>>(StringComparer.Ordinal)
        {
            ["created_at"] = t => t.CreatedAt,
            ["due_date"] = t => t.DueDate,
            ["priority"] = t => t.Priority,
            ["title"] = t => t.Title,
        };

    /// <summary>
    /// One page of the owner's tasks, filtered and ordered (newest first unless <c>sort</c> says otherwise), or the
    /// errors of every bad filter.
    /// </summary>
    public async Task<Result<PagedEnvelope<TodoResponse>>> ListAsync(long ownerId, TodoFilter filter, PageQuery paging, CancellationToken cancellationToken)
    {
        var listing = Filtered(ownerId, filter);
        return listing.Succeeded
            ? await listing.Value.Tasks.OrderBy(listing.Value.Sort, t => t.Id).Select(TodoResponse.Projection).ToPageDataAsync(paging, cancellationToken)
            : listing.Failure;
    }

    /// <summary>
    /// One keyset page of the owner's tasks, filtered, newest first (by created_at, then id: the order of the owner's
    /// listing indexes), or the errors of every bad filter. Other orders page by number only.
    /// </summary>
    public async Task<Result<KeysetEnvelope<TodoResponse>>> ListAsync(long ownerId, TodoFilter filter, KeysetRequest keyset, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(filter.Sort) && filter.Sort.Trim() != DefaultSort)
        {
            return Keyset.SortNotSupported(DefaultSort);
        }

        var listing = Filtered(ownerId, filter);
        return listing.Succeeded
            ? await listing.Value.Tasks.ToKeysetPageAsync(keyset, t => t.CreatedAt, t => t.Id, TodoResponse.Projection, t => new KeysetPosition(t.CreatedAt, t.Id), cancellationToken)
            : listing.Failure;
    }

    /// <summary>The owner's tasks that the filter keeps and the order it asks for, or the errors of every bad filter.</summary>
    private Result<(IQueryable<TodoTask> Tasks, IReadOnlyList<SortKey<TodoTask>> Sort)> Filtered(long ownerId, TodoFilter filter)
    {
        var errors = new FieldErrors();
        var query = Owned(ownerId, filter.IncludeDeleted || filter.OnlyDeleted).AsNoTracking();
        if (filter.OnlyDeleted)
        {
            query = query.Where(t => t.DeletedAt != null);
        }

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
            errors.Add("q", StoredTextAttribute.NoNul);
        }
        else if (!string.IsNullOrWhiteSpace(filter.Q))
        {
            var term = filter.Q.Trim().ToUpperInvariant();
            query = query.Where(t => t.Title.ToUpper().Contains(term) || (t.Description != null && t.Description.ToUpper().Contains(term)));
        }

        var sort = SortQuery.Parse(filter.Sort, DefaultSort, SortFields);
        if (!sort.Succeeded)
        {
            foreach (var (field, messages) in sort.Failure.Errors!)
            {
                errors[field] = messages;
            }
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        return (query, sort.Value);
    }

    /// <summary>The owner's live tasks in the order they were created: seed 003's list.</summary>
    public IQueryable<TodoResponse> ListInCreationOrder(long ownerId) =>
        Owned(ownerId).AsNoTracking().OrderBy(t => t.Id).Select(TodoResponse.Projection);

    /// <summary>One of the owner's live tasks, or null.</summary>
    public async Task<TodoVersion?> FindAsync(long ownerId, long id, CancellationToken cancellationToken) =>
        await Owned(ownerId).AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken) is { } task ? TodoVersion.Of(task) : null;

    public async Task<TodoVersion> CreateAsync(long ownerId, TodoRequest request, CancellationToken cancellationToken)
    {
        var task = new TodoTask { OwnerId = ownerId };
        Apply(task, request);
        db.Set<TodoTask>().Add(task);
        await db.SaveChangesAsync(cancellationToken);
        return TodoVersion.Of(task);
    }

    /// <summary>Replaces every field (PUT); fields left out take their defaults.</summary>
    public Task<Result<TodoVersion>> ReplaceAsync(long ownerId, long id, TodoRequest request, string? ifMatch, CancellationToken cancellationToken) =>
        WriteAsync(ownerId, id, ifMatch, task =>
        {
            Apply(task, request);
            return null;
        }, cancellationToken);

    /// <summary>Changes only the fields present in a JSON merge patch (RFC 7396); null clears an optional field.</summary>
    public Task<Result<TodoVersion>> PatchAsync(long ownerId, long id, JsonElement patch, string? ifMatch, CancellationToken cancellationToken) =>
        WriteAsync(ownerId, id, ifMatch, task =>
        {
            var parsed = TodoPatch.Parse(patch);
            if (!parsed.Succeeded)
            {
                return parsed.Failure;
            }

            parsed.Value.ApplyTo(task, clock.GetUtcNow().UtcDateTime);
            return null;
        }, cancellationToken);

    /// <summary>Soft-deletes the task; null when done.</summary>
    public async Task<Failure?> DeleteAsync(long ownerId, long id, string? ifMatch, CancellationToken cancellationToken) =>
        (await WriteAsync(ownerId, id, ifMatch, task =>
        {
            task.DeletedAt = clock.GetUtcNow().UtcDateTime;
            return null;
        }, cancellationToken)).Failure;

    /// <summary>Brings back one of the owner's deleted tasks.</summary>
    public async Task<Result<TodoVersion>> RestoreAsync(long ownerId, long id, CancellationToken cancellationToken)
    {
        var task = await Owned(ownerId, includeDeleted: true).SingleOrDefaultAsync(t => t.Id == id && t.DeletedAt != null, cancellationToken);
        if (task is null)
        {
            return Failure.NotFound($"Deleted task {id}");
        }

        task.DeletedAt = null;
        await db.SaveChangesAsync(cancellationToken);
        return TodoVersion.Of(task);
    }

    private IQueryable<TodoTask> Owned(long ownerId, bool includeDeleted = false) =>
        (includeDeleted ? db.Set<TodoTask>().IgnoreQueryFilters([QueryFilters.SoftDelete]) : db.Set<TodoTask>()).Where(t => t.OwnerId == ownerId);

    /// <summary>Reads the task, checks <c>If-Match</c>, applies <paramref name="change"/> (which may refuse) and saves.</summary>
    private async Task<Result<TodoVersion>> WriteAsync(
        long ownerId, long id, string? ifMatch, Func<TodoTask, Failure?> change, CancellationToken cancellationToken)
    {
        var task = await Owned(ownerId).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null)
        {
            return Failure.NotFound($"Task {id}");
        }

        if (!ETags.IfMatchAllows(ifMatch, TodoETag.Of(task)))
        {
            return Stale;
        }

        if (change(task) is { } refused)
        {
            return refused;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another request changed it between our read and our write: the caller's view is stale.
            return Stale;
        }

        return TodoVersion.Of(task);
    }

    /// <summary>A validated request's fields, as stored (trimmed; the title in Unicode NFC).</summary>
    private void Apply(TodoTask task, TodoRequest request)
    {
        task.Title = StoredTextAttribute.Clean(request.Title, normalize: true)!;
        task.Description = StoredTextAttribute.Clean(request.Description, normalize: false);
        task.Priority = request.Priority ?? TodoPriority.Normal;
        task.DueDate = request.DueDate;
        task.SetStatus(request.Status ?? TodoStatus.Pending, clock.GetUtcNow().UtcDateTime);
    }
}
