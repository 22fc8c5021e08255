using Microsoft.AspNetCore.Authorization;

namespace Aap.Api.Platform.Security;

/// <summary>Reads from an endpoint's metadata whether it needs an authenticated caller.</summary>
internal static class EndpointAccess
{
    /// <summary>True when the endpoint (or its group) requires authorization and does not allow anonymous callers.</summary>
    public static bool RequiresCaller(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<IAuthorizeData>() is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;
}
