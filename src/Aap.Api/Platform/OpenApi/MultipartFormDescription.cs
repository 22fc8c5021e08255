using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Describes a multipart upload as what a client must send: an object with its named fields. The generator can
/// only show the body as one bare file, and Swagger UI's "Try it out" then sends no field name at all.
/// </summary>
internal static class MultipartFormDescription
{
    public const string ContentType = "multipart/form-data";

    /// <summary>Replaces the operation's request body with a <c>multipart/form-data</c> object of <paramref name="fields"/>.</summary>
    public static TBuilder DescribesMultipartForm<TBuilder>(this TBuilder builder, IReadOnlyList<FormField> fields)
        where TBuilder : IEndpointConventionBuilder
    {
        if (fields.Count == 0)
        {
            throw new ArgumentException("A multipart form has at least one field.", nameof(fields));
        }

        var body = RequestBody(fields);
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = body;
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Removes the <c>IFormFile</c> schema the generator made for the bare-file body, once every upload describes its
    /// fields instead and nothing refers to it.
    /// </summary>
    public static Task DropBareFileSchema(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        const string bareFile = "IFormFile";
        var referred = (document.Paths?.Values.AsEnumerable() ?? [])
            .SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(o => o.RequestBody?.Content?.Values.AsEnumerable() ?? [])
            .Any(m => m.Schema is OpenApiSchemaReference { Reference.Id: bareFile });
        if (!referred)
        {
            document.Components?.Schemas?.Remove(bareFile);
        }

        return Task.CompletedTask;
    }

    /// <summary>A required <c>multipart/form-data</c> body: an object whose properties are the fields, the required ones listed.</summary>
    public static OpenApiRequestBody RequestBody(IReadOnlyList<FormField> fields) => new()
    {
        Required = true,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            [ContentType] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = fields.Where(f => f.Required).Select(f => f.Name).ToHashSet(StringComparer.Ordinal),
                    Properties = fields.ToDictionary(f => f.Name, IOpenApiSchema (f) => f.Schema(), StringComparer.Ordinal),
                },
            },
        },
    };
}
