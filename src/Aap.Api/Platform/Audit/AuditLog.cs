using System.Security.Claims;
using System.Text.Json;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

[assembly: EntityConfiguration(typeof(Aap.Api.Platform.Audit.AuditEntryConfiguration))]

namespace Aap.Api.Platform.Audit;

/// <summary>
/// One audited change: who (the actor's id and the name they had then), what (<c>app.updated</c>), to which entity,
/// and the entity's relevant fields before and after as JSON. Rows are only ever added.
/// </summary>
internal sealed class AuditEntry
{
    public const int ActionMaxLength = 100;
    public const int EntityTypeMaxLength = 50;
    public const int EntityIdMaxLength = 100;

    public long Id { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary>Null for the command line and the service itself.</summary>
    public long? ActorId { get; set; }

    public required string ActorName { get; set; }

    public required string Action { get; set; }

    public required string EntityType { get; set; }

    public required string EntityId { get; set; }

    public string? BeforeJson { get; set; }

    public string? AfterJson { get; set; }

    /// <summary>The request the change was made in (<c>X-Request-ID</c>), to find its log lines.</summary>
    public string? RequestId { get; set; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> entry)
    {
        entry.ToTable("audit_log");
        entry.Property(e => e.ActorName).HasMaxLength(254);
        entry.Property(e => e.Action).HasMaxLength(AuditEntry.ActionMaxLength);
        entry.Property(e => e.EntityType).HasMaxLength(AuditEntry.EntityTypeMaxLength);
        entry.Property(e => e.EntityId).HasMaxLength(AuditEntry.EntityIdMaxLength);
        entry.Property(e => e.RequestId).HasMaxLength(128);
        entry.HasIndex(e => new { e.OccurredAt, e.Id });
        entry.HasIndex(e => new { e.ActorId, e.OccurredAt });
        entry.HasIndex(e => new { e.Action, e.OccurredAt });
        entry.HasIndex(e => new { e.EntityType, e.EntityId, e.OccurredAt });
    }
}

/// <summary>
/// Gives the audit log the name an actor has now, to keep with the record (names change; the log says who it was
/// then). The identity feature implements it; the platform knows no accounts.
/// </summary>
internal interface IAuditActorNames
{
    Task<string?> NameOfAsync(long actorId, CancellationToken cancellationToken);
}

/// <summary>
/// Records admin actions in <c>audit_log</c>. <see cref="RecordAsync(string, string, string, object?, object?, CancellationToken)"/>
/// only adds the row to the caller's <see cref="AppDbContext"/> (the same scoped instance the caller changes its
/// entities through): it is written by the caller's next <c>SaveChangesAsync</c>, inside the caller's transaction,
/// so a change and its record commit together or not at all. Snapshots are the feature's response records (never
/// entities), serialised as the API serialises them; they must not hold password hashes or tokens.
/// </summary>
internal sealed class AuditLog(AppDbContext db, IHttpContextAccessor http, TimeProvider clock, IOptions<JsonOptions> json, IAuditActorNames? names = null)
{
    /// <summary>The actor name of changes made from the command line (<c>aap users create-admin</c>).</summary>
    public const string CommandLine = "cli";

    /// <summary>The actor name of changes the service makes on its own inside a request (no signed-in user).</summary>
    public const string System = "system";

    /// <summary>Records a change made by the caller of the current request (or, outside a request, by the command line).</summary>
    public Task RecordAsync(string action, string entityType, string entityId, object? before, object? after, CancellationToken cancellationToken) =>
        RecordAsync(http.HttpContext?.User.UserId(), action, entityType, entityId, before, after, cancellationToken);

    /// <summary>Records a change made by <paramref name="actorId"/> (null: the command line, or the service itself).</summary>
    public async Task RecordAsync(long? actorId, string action, string entityType, string entityId, object? before, object? after, CancellationToken cancellationToken)
    {
        var context = http.HttpContext;
        var actorName = actorId is { } id
            ? (names is null ? null : await names.NameOfAsync(id, cancellationToken)) ?? $"user {id}"
            : context is null ? CommandLine : System;
        db.Set<AuditEntry>().Add(new AuditEntry
        {
            OccurredAt = clock.GetUtcNow().UtcDateTime,
            ActorId = actorId,
            ActorName = actorName,
            Action = action,
            EntityType = entityType,
            EntityId = entityId,
            BeforeJson = Serialize(before),
            AfterJson = Serialize(after),
            RequestId = context?.TraceIdentifier,
        });
    }

    private string? Serialize(object? snapshot) =>
        snapshot is null ? null : JsonSerializer.Serialize(snapshot, snapshot.GetType(), json.Value.SerializerOptions);
}
