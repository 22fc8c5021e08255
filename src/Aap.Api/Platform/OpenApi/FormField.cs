using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// One named field of a <c>multipart/form-data</c> body, as the OpenAPI document shows it. Made with
/// <c>MultipartForms.File</c>, <c>.Text</c> or <c>.Integer</c> and given to <c>AcceptsMultipartUpload</c>.
/// </summary>
internal sealed record FormField(string Name, JsonSchemaType Type, string? Format, bool Required, string? Description)
{
    public OpenApiSchema Schema() => new() { Type = Type, Format = Format, Description = Description };
}
