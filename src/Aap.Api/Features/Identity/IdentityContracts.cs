using System.ComponentModel.DataAnnotations;
using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

// Request records are public: the validation source generator only sees public types. Their fields carry no length or
// format attributes: names and e-mails are judged after trimming and Unicode normalisation, every fault of a body is
// reported in one answer with the detail of its operation, and the same rules serve `aap users create-admin` and the
// bootstrap admin, which do not come through HTTP (AccountService).

/// <summary>A new account: an email, a username, or both, and a password of 8 to 128 characters.</summary>
public sealed record RegisterRequest(string? Email, string? Username, string? Password);

/// <summary><c>login</c> is an email or a username; <c>email</c> or <c>username</c> may be sent instead.</summary>
public sealed record LoginRequest(string? Login, string? Email, string? Username, string? Password)
{
    public string? Identifier => Login ?? Email ?? Username;
}

/// <summary>The refresh token; the refresh cookie is used when the body has none.</summary>
public sealed record RefreshRequest(string? RefreshToken);

/// <summary><c>scope</c>: <c>current</c> (default) ends this session, <c>all</c> ends every session of the user.</summary>
public sealed record LogoutRequest(
    string? RefreshToken,
    [property: AllowedValues(LogoutRequest.Current, LogoutRequest.All, null, ErrorMessage = "Use 'current' or 'all'.")] string? Scope)
{
    public const string Current = "current";
    public const string All = "all";
}

/// <summary>Fields left out (or null) are kept. Seed 004's <c>PUT /api/me/</c> takes the same body.</summary>
[FeatureSurface]
public sealed record UpdateProfileRequest(string? Username, string? Email);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>Tokens as RFC 6749 names them; <c>expires_in</c> is the access token's lifetime in seconds.</summary>
internal sealed record TokenResponse(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn)
{
    public static TokenResponse From(TokenPair pair) => new(pair.AccessToken, pair.RefreshToken, "Bearer", pair.ExpiresIn);
}

internal sealed record MeResponse(long Id, string? Username, string? Email, string Role, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static MeResponse From(Account account) => new(account.Id, account.UserName, account.Email, account.Role, account.CreatedAt, account.UpdatedAt);
}

internal sealed record LogoutResponse(int SessionsEnded);

/// <summary>An account as the admins' user list shows it.</summary>
[FeatureSurface]
internal sealed record AdminUserResponse(long Id, string? Username, string? Email, string Role, bool IsActive, DateTime CreatedAt);

/// <summary>An admin's change to an account: the fields sent are changed, the others kept.</summary>
public sealed record UpdateUserRequest(string? Role, bool? IsActive);

/// <summary>One account as admins see it, with until when password checks are refused (null: they are not).</summary>
[Platform.FeatureSurface]
internal sealed record AdminUserDetails(
    long Id, string? Username, string? Email, string Role, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt, DateTime? LockedUntil);

/// <summary>What the audit log keeps of an account: no password hash, no security stamp, no token.</summary>
internal sealed record UserAuditSnapshot(string? Username, string? Email, string Role, bool IsActive)
{
    public static UserAuditSnapshot Of(User user) => new(user.UserName, user.Email, user.Role, user.IsActive);
}
