using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>A new access token and the refresh token that renews it.</summary>
[FeatureSurface]
internal sealed record TokenPair(string AccessToken, string RefreshToken, int ExpiresIn, DateTime RefreshExpiresAt);
