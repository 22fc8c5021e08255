using System.Globalization;
using System.Security.Claims;

namespace Aap.Api.Platform.Security;

/// <summary>The roles of AAP. Anonymous callers have no role claim.</summary>
internal static class Roles
{
    public const string Admin = "Admin";
    public const string User = "User";
}

/// <summary>The authorization policies every feature can require by name.</summary>
internal static class Policies
{
    /// <summary>An authenticated caller with the <see cref="Roles.Admin"/> role.</summary>
    public const string Admin = "admin";
}

/// <summary>
/// Who the caller is, read from the authenticated principal: every feature asks this, and only the identity feature
/// decides how the claims got there.
/// </summary>
internal static class Caller
{
    /// <summary>The claim that carries the user id (the JWT <c>sub</c>).</summary>
    public const string SubjectClaim = "sub";

    /// <summary>The claim that carries the role.</summary>
    public const string RoleClaim = "role";

    public static long? UserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst(SubjectClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(Roles.Admin);
}
