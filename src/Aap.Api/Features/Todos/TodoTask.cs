using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Todos.TodoTaskConfiguration))]

namespace Aap.Api.Features.Todos;

[FeatureSurface]
public enum TodoStatus
{
    Pending,
    InProgress,
    Completed,
}

/// <summary>Stored as 0, 1, 2 so that sorting by priority sorts by importance.</summary>
[FeatureSurface]
public enum TodoPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
}

/// <summary>A personal to-do task. It belongs to one user; other users never see it, not even as a 403.</summary>
internal sealed class TodoTask : ITimestamped, ISoftDeletable, IVersioned
{
    public const int TitleMaxLength = 200;
    public const int DescriptionMaxLength = 5000;

    public long Id { get; set; }

    public long OwnerId { get; set; }

    public string Title { get; set; } = "";

    public string? Description { get; set; }

    public TodoStatus Status { get; private set; } = TodoStatus.Pending;

    public TodoPriority Priority { get; set; } = TodoPriority.Normal;

    public DateOnly? DueDate { get; set; }

    /// <summary>Set when the task becomes completed, cleared when it leaves that state.</summary>
    public DateTime? CompletedAt { get; private set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public long Version { get; set; }

    public void SetStatus(TodoStatus status, DateTime now)
    {
        if (status == TodoStatus.Completed && Status != TodoStatus.Completed)
        {
            CompletedAt = now;
        }
        else if (status != TodoStatus.Completed)
        {
            CompletedAt = null;
        }

        Status = status;
    }
}

internal sealed class TodoTaskConfiguration : IEntityTypeConfiguration<TodoTask>
{
    public void Configure(EntityTypeBuilder<TodoTask> task)
    {
        task.ToTable("todo_tasks");
        task.Property(t => t.Title).HasMaxLength(TodoTask.TitleMaxLength).IsRequired();
        task.Property(t => t.Description).HasMaxLength(TodoTask.DescriptionMaxLength);
        task.Property(t => t.Status).HasConversion(
            s => s == TodoStatus.InProgress ? "in_progress" : s == TodoStatus.Completed ? "completed" : "pending",
            s => s == "in_progress" ? TodoStatus.InProgress : s == "completed" ? TodoStatus.Completed : TodoStatus.Pending).HasMaxLength(20);
        task.Property(t => t.Priority).HasConversion<short>();

        // The listings of one owner: newest first (optionally by status) and by due date, each ending in id for the
        // tie-break of the ORDER BY. deleted_at rides along (PostgreSQL INCLUDE) so the page's COUNT reads the index
        // only; a partial index would not serve include_deleted=true. See docs/database.md for the plans.
        task.HasIndex(t => new { t.OwnerId, t.CreatedAt, t.Id }).IncludeProperties(t => new { t.DeletedAt });
        task.HasIndex(t => new { t.OwnerId, t.Status, t.CreatedAt, t.Id }).IncludeProperties(t => new { t.DeletedAt });
        task.HasIndex(t => new { t.OwnerId, t.DueDate, t.Id });
    }
}
