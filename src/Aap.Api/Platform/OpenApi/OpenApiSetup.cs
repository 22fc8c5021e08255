using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

internal static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddAapOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "AAP — Admin and User Portal",
                Version = typeof(OpenApiSetup).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
                Description =
                    "Product API under /api/v1. Success bodies are {\"data\": ..., \"meta\": ...}; errors are RFC 9457 " +
                    "application/problem+json with a stable `code`, a `traceId` (the X-Request-ID) and, for validation, " +
                    "`errors` by field. Lists take ?page=1&size=20 (per_page is an alias of size) and return a Link header.",
            };
            return Task.CompletedTask;
        }));

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and Swagger UI at <c>/docs</c>.</summary>
    public static WebApplication MapAapOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "docs";
            options.DocumentTitle = "AAP API";
            options.SwaggerEndpoint(DocumentPath, "AAP v1");
        });
        return app;
    }
}
