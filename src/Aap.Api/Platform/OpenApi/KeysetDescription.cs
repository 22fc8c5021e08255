using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Documents a list that also pages by keyset (<see cref="Keyset"/>): the <c>cursor</c> query parameter, and a 200
/// body that is either the page-number envelope or the keyset one. The generator shows one body per status only, the
/// last <c>Ok&lt;T&gt;</c> of the handler's <c>Results</c> (so handlers list the page-number envelope last, and it
/// keeps its component); the operation's 200 becomes a <c>oneOf</c> of it and the keyset envelope.
/// </summary>
internal static class KeysetDescription
{
    public static RouteHandlerBuilder PagesByKeyset<TRow>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            operation.Parameters ??= [];
            if (!operation.Parameters.Any(p => p.Name == Keyset.Parameter))
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = Keyset.Parameter,
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = Keyset.Description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Keyset.MaxCursorLength },
                });
            }

            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue("application/json", out var json) == true &&
                json.Schema is { } paged)
            {
                var keyset = await context.GetOrCreateSchemaAsync(typeof(KeysetEnvelope<TRow>), null, cancellationToken);
                json.Schema = new OpenApiSchema { OneOf = [paged, keyset] };
                if (ok is OpenApiResponse response)
                {
                    response.Description = "A page: by number (meta: page, size, total, total_pages) or, with cursor, by keyset (meta: size, next_cursor).";
                }
            }
        });
}
