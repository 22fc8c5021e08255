using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Template;

namespace Aap.Api.Platform.Http;

/// <summary>Says, in a 415, which content type the endpoint reads, from the endpoint's own accepts metadata.</summary>
internal static class MediaTypes
{
    /// <summary>"Send application/json (this request's Content-Type is text/plain)."; null when the endpoint declares nothing.</summary>
    public static string? SendWhat(HttpContext context, Endpoint? endpoint)
    {
        var accepted = (endpoint ?? AcceptingEndpoint(context))?.Metadata.GetOrderedMetadata<IAcceptsMetadata>()
            .SelectMany(accepts => accepts.ContentTypes).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (accepted is not { Count: > 0 })
        {
            return null;
        }

        var what = accepted.Contains("multipart/form-data", StringComparer.OrdinalIgnoreCase)
            ? "multipart/form-data (a form with the file in a named field)"
            : string.Join(" or ", accepted);
        var sent = context.Request.ContentType is { Length: > 0 } type ? $"this request's Content-Type is {type}" : "this request has no Content-Type";
        return $"Send {what}; {sent}.";
    }

    /// <summary>
    /// Routing answers a content type that no candidate accepts with an endpoint of its own that carries no metadata;
    /// the endpoint the client meant is the one whose route and method match and that declares what it accepts.
    /// </summary>
    private static RouteEndpoint? AcceptingEndpoint(HttpContext context)
    {
        var sources = context.RequestServices.GetServices<EndpointDataSource>();
        foreach (var endpoint in sources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not { ContentTypes.Count: > 0 } ||
                endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } methods ||
                !methods.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var matcher = new TemplateMatcher(new RouteTemplate(endpoint.RoutePattern), new RouteValueDictionary());
            if (matcher.TryMatch(context.Request.Path, new RouteValueDictionary()))
            {
                return endpoint;
            }
        }

        return null;
    }
}
