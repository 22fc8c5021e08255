using System.Text.Json.Nodes;
using Aap.Api.Platform.RateLimiting;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Shows every operation's rate limits: its 429 response with the <c>RateLimit</c>, <c>RateLimit-Policy</c> and
/// <c>Retry-After</c> headers, and <c>x-rate-limit</c>, the policies it is under with their limits as configured
/// (the caller policies that can reach it, its byte budget when it is an upload, its own stricter limits).
/// <c>/health/*</c> and <c>/metrics</c> are exempt and list none.
/// </summary>
internal static class RateLimitDescription
{
    public const string Extension = "x-rate-limit";

    public static Task Apply(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var services = context.ApplicationServices;
        var settings = services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var limiter = services.GetRequiredService<RouteRateLimiter>();
        var endpoints = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IEndpointNameMetadata>() is not null)
            .GroupBy(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var operation in document.Paths?.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []) ?? [])
        {
            if (operation.OperationId is not { } id || !endpoints.TryGetValue(id, out var endpoint) ||
                RouteRateLimiter.IsExempt(new PathString("/" + endpoint.RoutePattern.RawText?.TrimStart('/'))))
            {
                continue;
            }

            var policies = PoliciesOf(endpoint, settings, limiter);
            if (policies.Count == 0)
            {
                continue;
            }

            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions[Extension] = new JsonNodeExtension(policies);
            operation.Responses ??= new OpenApiResponses();
            if (!operation.Responses.TryGetValue("429", out var existing) || existing is not OpenApiResponse response)
            {
                response = new OpenApiResponse();
                operation.Responses["429"] = response;
            }

            response.Description = "Too many requests: a problem (code rate_limited) naming the policy in `policy`; retry after Retry-After seconds.";
            if (response.Content is null || response.Content.Count == 0)
            {
                response.Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new()
                    {
                        Schema = document.Components?.Schemas?.ContainsKey("ProblemDetails") == true
                            ? new OpenApiSchemaReference("ProblemDetails", document)
                            : new OpenApiSchema { Type = JsonSchemaType.Object },
                    },
                };
            }

            response.Headers = Headers();
        }

        return Task.CompletedTask;
    }

    private static JsonArray PoliciesOf(RouteEndpoint endpoint, RateLimitOptions settings, RouteRateLimiter limiter)
    {
        var list = new JsonArray();
        if (settings.Enabled)
        {
            var adminOnly = endpoint.Metadata.OfType<IAuthorizeData>().Any(a => a.Policy == Policies.Admin || a.Roles?.Split(',').Contains(Roles.Admin) == true);
            var callers = adminOnly ? [("admin", settings.Admin)]
                : EndpointAccess.RequiresCaller(endpoint) ? [("user", settings.User), ("admin", settings.Admin)]
                : new[] { ("anonymous", settings.Anonymous), ("user", settings.User), ("admin", settings.Admin) };
            foreach (var (name, policy) in callers)
            {
                var per = name == "anonymous" ? "address" : "user";
                list.Add(Policy(name, policy.PermitLimit, policy.WindowSeconds, per, "requests"));
                if (policy.PerHour > 0)
                {
                    list.Add(Policy(name + "-hour", policy.PerHour, 3600, per, "requests"));
                }
            }

            if (RouteRateLimiter.IsUpload(endpoint) && settings.UploadBytes.Limit > 0)
            {
                list.Add(Policy(RouteRateLimiter.UploadBytesPolicy, settings.UploadBytes.Limit, settings.UploadBytes.WindowSeconds, "user or address", "bytes"));
            }
        }

        foreach (var limit in limiter.LimitsOf(endpoint))
        {
            list.Add(Policy(limit.Name, limit.PermitLimit, limit.WindowSeconds, "address", "requests"));
        }

        return list;
    }

    private static JsonObject Policy(string name, long limit, int windowSeconds, string per, string unit) => new()
    {
        ["policy"] = name,
        ["limit"] = limit,
        ["window"] = windowSeconds,
        ["per"] = per,
        ["unit"] = unit,
    };

    private static Dictionary<string, IOpenApiHeader> Headers() => new(StringComparer.Ordinal)
    {
        ["RateLimit"] = new OpenApiHeader
        {
            Description = "The policy closest to its limit (and the byte budget on uploads): \"name\";r=remaining;t=seconds to its reset.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        ["RateLimit-Policy"] = new OpenApiHeader
        {
            Description = "Every policy the request was counted under: \"name\";q=quota;w=window seconds.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        ["Retry-After"] = new OpenApiHeader
        {
            Description = "Seconds until the window that refused the request resets.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
        },
    };
}
