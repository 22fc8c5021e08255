using System.Text.Json.Serialization;

namespace Aap.Api.Features.Apps;

/// <summary>An app as the catalog shows it; <c>completed</c> tells a logged-in caller whether they completed it.</summary>
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
