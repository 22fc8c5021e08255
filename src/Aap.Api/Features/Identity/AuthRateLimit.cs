using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The rate-limiting policies of the routes that take a password or a refresh token, whichever contract they serve:
/// one bucket per route family (the seed routes in theirs), per client address.
/// </summary>
[FeatureSurface]
internal static class AuthRateLimit
{
    public const string Register = "auth-register";

    public const string Login = "auth-login";

    public const string Refresh = "auth-refresh";

    public static readonly IReadOnlyList<string> Families = [Register, Login, Refresh];
}
