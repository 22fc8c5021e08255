using System.Globalization;
using System.Text.Json;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Audit;

/// <summary>One audit record on the wire: <c>before</c> and <c>after</c> are the JSON objects recorded (null when there was none).</summary>
internal sealed record AuditEntryResponse(
    long Id, DateTime OccurredAt, long? ActorId, string ActorName, string Action, string EntityType, string EntityId,
    JsonElement? Before, JsonElement? After, string? RequestId);

/// <summary>
/// The filters of the audit log, as the query string gives them; <see cref="AuditQueries.SearchAsync"/> checks them.
/// <c>action</c> ending in '.' is a prefix (<c>app.</c>), otherwise exact; <c>from</c>/<c>to</c> are ISO 8601 instants
/// (inclusive), a date alone meaning its midnight UTC.
/// </summary>
public sealed record AuditFilter
{
    [FromQuery(Name = "actor")]
    public string? Actor { get; init; }

    [FromQuery(Name = "action")]
    public string? Action { get; init; }

    [FromQuery(Name = "entity_type")]
    public string? EntityType { get; init; }

    [FromQuery(Name = "entity_id")]
    public string? EntityId { get; init; }

    [FromQuery(Name = "from")]
    public string? From { get; init; }

    [FromQuery(Name = "to")]
    public string? To { get; init; }
}

/// <summary>Reads the audit log for the admin API and the admin pages.</summary>
internal sealed class AuditQueries(AppDbContext db)
{
    /// <summary>A page of records, newest first, or the fields whose values are not understood.</summary>
    public async Task<Result<PagedEnvelope<AuditEntryResponse>>> SearchAsync(AuditFilter filter, PageQuery paging, CancellationToken cancellationToken)
    {
        if (Filtered(filter, out var query) is { } failure)
        {
            return failure;
        }

        var page = await query.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id).ToPageDataAsync(paging, cancellationToken);
        return new PagedEnvelope<AuditEntryResponse>(page.Data.Select(ToResponse).ToList(), page.Meta);
    }

    /// <summary>The same records, newest first, one keyset page at a time (on ix_audit_log_occurred_at_id).</summary>
    public async Task<Result<KeysetEnvelope<AuditEntryResponse>>> SearchAsync(AuditFilter filter, KeysetRequest keyset, CancellationToken cancellationToken)
    {
        if (Filtered(filter, out var query) is { } failure)
        {
            return failure;
        }

        var page = await query.ToKeysetPageAsync(keyset, e => e.OccurredAt, e => e.Id, e => e, e => new KeysetPosition(e.OccurredAt, e.Id), cancellationToken);
        return new KeysetEnvelope<AuditEntryResponse>(page.Data.Select(ToResponse).ToList(), page.Meta);
    }

    /// <summary>The records the filter keeps, or the fields whose values are not understood.</summary>
    private Failure? Filtered(AuditFilter filter, out IQueryable<AuditEntry> query)
    {
        query = db.Set<AuditEntry>().AsNoTracking();
        var errors = new FieldErrors();
        long? actor = null;
        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            if (long.TryParse(filter.Actor.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                actor = id;
            }
            else
            {
                errors.Add("actor", "The actor is a user id: a positive whole number.");
            }
        }

        var action = Name(filter.Action, "action", AuditEntry.ActionMaxLength, "An action is letters, digits, '_' and '.', such as app.updated, or a prefix ending in '.', such as app.", errors);
        var entityType = Name(filter.EntityType, "entity_type", AuditEntry.EntityTypeMaxLength, "An entity type is letters, digits, '_' and '.', such as app or user.", errors);
        var entityId = filter.EntityId?.Trim();
        if (entityId?.Length > AuditEntry.EntityIdMaxLength)
        {
            errors.Add("entity_id", $"An entity id has at most {AuditEntry.EntityIdMaxLength} characters.");
        }

        var from = Instant(filter.From, "from", errors);
        var to = Instant(filter.To, "to", errors);
        if (from is not null && to is not null && from > to)
        {
            errors.Add("to", "'to' is on or after 'from'.");
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        query = actor is null ? query : query.Where(e => e.ActorId == actor);
        query = action switch
        {
            null => query,
            _ when action.EndsWith('.') => query.Where(e => e.Action.StartsWith(action)),
            _ => query.Where(e => e.Action == action),
        };
        query = entityType is null ? query : query.Where(e => e.EntityType == entityType);
        query = string.IsNullOrEmpty(entityId) ? query : query.Where(e => e.EntityId == entityId);
        query = from is null ? query : query.Where(e => e.OccurredAt >= from);
        query = to is null ? query : query.Where(e => e.OccurredAt <= to);
        return null;
    }

    private static AuditEntryResponse ToResponse(AuditEntry e) =>
        new(e.Id, e.OccurredAt, e.ActorId, e.ActorName, e.Action, e.EntityType, e.EntityId, Parse(e.BeforeJson), Parse(e.AfterJson), e.RequestId);

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string? Name(string? raw, string field, int maxLength, string message, FieldErrors errors)
    {
        var value = raw?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (value.Length > maxLength || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
        {
            errors.Add(field, message);
        }

        return value.ToLowerInvariant();
    }

    private static DateTime? Instant(string? raw, string field, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        string[] formats = ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF"];
        if (DateTimeOffset.TryParseExact(raw.Trim(), formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
        {
            return instant.UtcDateTime;
        }

        errors.Add(field, $"'{field}' is an ISO 8601 date or date and time, such as 2026-01-31 or 2026-01-31T12:00:00Z.");
        return null;
    }
}

/// <summary><c>GET /api/v1/admin/audit</c>: the audit log, for admins.</summary>
internal static class AuditEndpoints
{
    public static IServiceCollection AddAuditLog(this IServiceCollection services) =>
        services.AddScoped<AuditLog>().AddScoped<AuditQueries>();

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/admin/audit", ListAudit).WithName("ListAudit").WithTags("Admin: audit").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).PagesByKeyset<AuditEntryResponse>()
            .WithSummary("The audit log of admin actions, newest first, by page number or by cursor. Filters: actor (user id), action (exact, or a prefix ending in '.'), entity_type, entity_id, from and to (ISO 8601, inclusive).");
        return endpoints;
    }

    internal static async Task<Results<Ok<KeysetEnvelope<AuditEntryResponse>>, Ok<PagedEnvelope<AuditEntryResponse>>, ProblemHttpResult>> ListAudit(
        [AsParameters] PageQuery paging, [AsParameters] AuditFilter filter, AuditQueries audit, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await audit.SearchAsync(filter, keyset, cancellationToken);
            return slice.Succeeded ? Keyset.Ok(context, slice.Value) : slice.Failure.ToProblem();
        }

        var listed = await audit.SearchAsync(filter, paging, cancellationToken);
        if (!listed.Succeeded)
        {
            return listed.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, listed.Value.Meta);
        return TypedResults.Ok(listed.Value);
    }
}
