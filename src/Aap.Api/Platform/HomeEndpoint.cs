using System.Net;
using Aap.Api.Platform.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Platform;

/// <summary>Where <c>GET /</c> points until the portal has a page there.</summary>
internal sealed record HomeResponse(string Name, string? Docs, string? Openapi, string Status, string Readme);

/// <summary>
/// <c>GET /</c>: the way in for someone who typed the server's address. A browser (which asks for HTML) gets a short
/// page linking to the browsable API, the OpenAPI document and the status; any other client gets the same links as
/// JSON. The docs links are left out when <c>OpenApi:Enabled</c> is false. Not part of the API description.
/// </summary>
internal static class HomeEndpoint
{
    public const string Readme = "README.md";

    public static IEndpointRouteBuilder MapHome(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", Home).WithName("Home").ExcludeFromDescription();
        return endpoints;
    }

    internal static IResult Home(HttpContext context, IOptions<ApiDocsOptions> docs)
    {
        var links = new HomeResponse(
            "AAP — Admin and User Portal",
            docs.Value.Enabled ? "/docs" : null,
            docs.Value.Enabled ? OpenApiSetup.DocumentPath : null,
            "/api/v1/status",
            Readme);
        context.Response.Headers.Vary = HeaderNames.Accept;
        return WantsHtml(context.Request) ? TypedResults.Content(Page(links), "text/html; charset=utf-8") : TypedResults.Ok(links);
    }

    /// <summary>Browsers ask for <c>text/html</c> by name; curl's <c>*/*</c> and API clients get JSON.</summary>
    private static bool WantsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && a.Quality is not 0d);

    private static string Page(HomeResponse links)
    {
        var docs = links.Docs is null
            ? "<p>The browsable API is switched off on this server (<code>OpenApi:Enabled</code>).</p>"
            : $"""
              <ul>
                <li><a href="{links.Docs}">Browsable API</a>: every route, with "Try it out" (log in, then Authorize with the access token)</li>
                <li><a href="{links.Openapi}">OpenAPI document</a>: the same description, for tools and client generators</li>
              </ul>
              """;
        return $"""
                <!DOCTYPE html>
                <html lang="en">
                <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>AAP</title></head>
                <body>
                <h1>{WebUtility.HtmlEncode(links.Name)}</h1>
                <p>This server answers the AAP API under <code>/api/v1</code>. There is no portal page here yet.</p>
                {docs}
                <p><a href="{links.Status}">Service status</a> · New here? Start with {WebUtility.HtmlEncode(links.Readme)} at the root of the source repository: the quick start, configuration and operations.</p>
                </body>
                </html>
                """;
    }
}
