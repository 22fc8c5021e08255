using System.Text.Json.Serialization;
using Aap.Api.Platform;

namespace Aap.Api.Features.Apps;

/// <summary>An app as the catalog shows it; <c>completed</c> tells a logged-in caller whether they completed it.</summary>
[FeatureSurface]
internal sealed record AppResponse(
    long Id,
    string Name,
    string Link,
    int Points,
    string? Description,
    string? Category,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Completed = null);

/// <summary>A new app, or the full replacement of one.</summary>
[FeatureSurface]
public sealed record AppRequest(string? Name, string? Link, int? Points, string? Description, string? Category, bool? IsActive);

/// <summary>An app as admins see it: the catalog fields plus its state.</summary>
[FeatureSurface]
internal sealed record AdminAppResponse(long Id, string Name, string Link, int Points, string? Description, string? Category, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt, DateTime? DeletedAt);

/// <summary>Which apps the admin list shows: live ones (null), active, inactive, or deleted ones.</summary>
[FeatureSurface]
internal enum AdminAppState
{
    Active,
    Inactive,
    Deleted,
}

/// <summary>The admin list's search and order (<c>name</c>, <c>points</c>, <c>created_at</c>, <c>-</c> for descending).</summary>
[FeatureSurface]
internal sealed record AdminAppFilter(string? Q, AdminAppState? State, string? Sort);

/// <summary>A category as a form offers it.</summary>
[FeatureSurface]
internal sealed record AppCategoryChoice(string Slug, string Name);

/// <summary>What other features need to know of an app: its name and the points it is worth now.</summary>
[FeatureSurface]
internal sealed record AppSummary(long Id, string Name, int Points, bool IsActive);

/// <summary>A new category, or the change of one (a field left out or null is kept).</summary>
public sealed record CategoryRequest(string? Name, string? Slug);

/// <summary>A category; <c>apps</c> counts the active apps filed under it.</summary>
[FeatureSurface]
internal sealed record CategoryResponse(string Slug, string Name, int Apps);
