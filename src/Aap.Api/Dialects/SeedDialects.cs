namespace Aap.Api.Dialects;

/// <summary>
/// The routes of the customer's seed documents, one file per document, each a thin adapter over the features'
/// public services: the wire contracts (paths, bodies, messages, statuses) are exactly as the documents print them.
/// </summary>
internal static class SeedDialects
{
    public static IEndpointRouteBuilder MapSeedDialects(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapSeed000().MapSeed002().MapSeed003().MapSeed004();
}
