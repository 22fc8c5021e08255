namespace Aap.Api.Features.Apps;

/// <summary>An app as the catalog shows it.</summary>
internal sealed record AppResponse(
    long Id,
    string Name,
    string Link,
    int Points,
    string? Description,
    string? Category,
    DateTime CreatedAt,
    DateTime UpdatedAt);
