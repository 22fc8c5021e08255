using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The families of routes that issue refresh tokens. A token is refreshed only by a route of the dialect that
/// issued it, so that a token obtained through one contract cannot be replayed through another's rules.
/// </summary>
[FeatureSurface]
internal static class TokenDialects
{
    /// <summary><c>/api/v1/auth/*</c> and the password change.</summary>
    public const string V1 = "v1";

    /// <summary>The seed documents' routes (<c>/api/login/</c>, <c>/api/token/user|admin/</c>, their refresh routes).</summary>
    public const string Seed = "seed";
}
