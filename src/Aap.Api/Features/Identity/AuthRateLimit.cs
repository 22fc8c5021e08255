using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>The rate-limiting policy of every route that takes a password or a refresh token, whichever contract it serves.</summary>
[FeatureSurface]
internal static class AuthRateLimit
{
    public const string Policy = "auth";
}
