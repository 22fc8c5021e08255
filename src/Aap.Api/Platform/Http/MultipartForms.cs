using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.Http;

/// <summary>
/// The one place where an upload's multipart body is read. The framework reports a bad body by throwing from
/// <c>ReadFormAsync</c>: <see cref="InvalidDataException"/> for a missing boundary or a part over a limit,
/// <see cref="IOException"/> for a body that ends before its closing boundary (a truncated part, a boundary that
/// never appears, JSON sent as multipart), <see cref="BadHttpRequestException"/> past the server's request limit.
/// This filter reads the form before the handler, turns those into 400 and 413 problems that say what is wrong,
/// and leaves the parsed form cached for the handler's own <c>ReadFormAsync</c>. It runs after authentication and
/// authorization, so a guest's body is never read.
/// </summary>
internal static class MultipartForms
{
    /// <summary>
    /// Declares a multipart upload route with its form <paramref name="fields"/>: routing accepts only
    /// <c>multipart/form-data</c> (415 otherwise), the OpenAPI document shows the fields, and the body is read
    /// through <see cref="ReadFirstAsync"/>.
    /// </summary>
    public static RouteHandlerBuilder AcceptsMultipartUpload(this RouteHandlerBuilder route, params FormField[] fields) =>
        route.Accepts<IFormFile>(MultipartFormDescription.ContentType).ReadsMultipartUpload(fields);

    /// <summary>
    /// Reads the body through <see cref="ReadFirstAsync"/> without declaring the content type to routing, for a route
    /// whose contract answers another content type with 400 rather than routing's 415. The OpenAPI document shows
    /// <paramref name="fields"/> as the body, when given.
    /// </summary>
    public static RouteHandlerBuilder ReadsMultipartUpload(this RouteHandlerBuilder route, params FormField[] fields)
    {
        if (fields.Length > 0)
        {
            route.DescribesMultipartForm(fields);
        }

        return route.ProducesProblem(400).ProducesProblem(413).AddEndpointFilter(ReadFirstAsync);
    }

    /// <summary>A file field (<c>string</c>, <c>binary</c>), required unless said otherwise.</summary>
    public static FormField File(string name, string? description = null, bool required = true) =>
        new(name, JsonSchemaType.String, "binary", required, description);

    /// <summary>A text field, optional unless said otherwise.</summary>
    public static FormField Text(string name, string? description = null, bool required = false) =>
        new(name, JsonSchemaType.String, null, required, description);

    /// <summary>An integer field (<c>int64</c>), optional unless said otherwise.</summary>
    public static FormField Integer(string name, string? description = null, bool required = false) =>
        new(name, JsonSchemaType.Integer, "int64", required, description);

    private static async ValueTask<object?> ReadFirstAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        if (http.Request.HasFormContentType)
        {
            var problem = await TryReadAsync(http);
            if (problem is not null)
            {
                return problem;
            }
        }

        return await next(invocation);
    }

    private static async Task<ProblemHttpResult?> TryReadAsync(HttpContext http)
    {
        try
        {
            await http.Request.ReadFormAsync(http.RequestAborted);
            return null;
        }
        catch (BadHttpRequestException bad) when (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(http);
        }
        catch (InvalidDataException invalid) when (IsSizeLimit(invalid))
        {
            return TooLarge(http);
        }
        catch (InvalidDataException invalid)
        {
            return Malformed(invalid.Message.StartsWith("Missing content-type boundary", StringComparison.Ordinal)
                ? "The Content-Type multipart/form-data has no boundary parameter; send the form as multipart/form-data; boundary=..."
                : $"The multipart body is malformed: {invalid.Message}");
        }
        catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
        {
            return Malformed("The multipart body ended before its closing boundary: it is truncated, or its parts are not separated by the boundary declared in Content-Type.");
        }
    }

    /// <summary>The framework's limits on a part's length ("Multipart body length limit N exceeded", "Form value length limit N exceeded").</summary>
    private static bool IsSizeLimit(InvalidDataException invalid) =>
        invalid.Message.StartsWith("Multipart body length limit", StringComparison.Ordinal) ||
        invalid.Message.StartsWith("Form value length limit", StringComparison.Ordinal);

    private static ProblemHttpResult TooLarge(HttpContext http)
    {
        var limit = http.RequestServices.GetRequiredService<IOptions<StorageOptions>>().Value.MaxFileBytes;
        return Problems.Create(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge,
            $"The upload is larger than this endpoint accepts: a file may have at most {limit} bytes.");
    }

    private static ProblemHttpResult Malformed(string detail) =>
        Problems.Create(StatusCodes.Status400BadRequest, ProblemCodes.InvalidMultipart, detail);
}
