namespace Aap.Api.Features.Identity;

/// <summary>The <c>code</c> of the problems only the auth routes answer.</summary>
internal static class AuthProblemCodes
{
    public const string InvalidCredentials = "invalid_credentials";
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string TooManyAttempts = "too_many_attempts";
}
