using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>
/// An account as other features and the seed dialects see it: what <see cref="AccountService"/> and
/// <see cref="ProfileCache"/> hand out instead of the <see cref="User"/> entity, which stays Identity's own.
/// </summary>
[FeatureSurface]
internal sealed record Account(long Id, string? UserName, string? Email, string Role, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static Account From(User user) => new(user.Id, user.UserName, user.Email, user.Role, user.IsActive, user.CreatedAt, user.UpdatedAt);
}
