using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>Whether the API describes itself. Section <c>OpenApi</c>.</summary>
internal sealed class ApiDocsOptions
{
    public const string SectionName = "OpenApi";

    /// <summary>Serve the OpenAPI document (<c>/openapi/v1.json</c>) and Swagger UI (<c>/docs</c>); on by default, in every environment.</summary>
    public bool Enabled { get; set; } = true;
}

internal static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>Where Swagger UI is served.</summary>
    public static readonly PathString DocsPath = "/docs";

    public static IServiceCollection AddAapOpenApi(this IServiceCollection services)
    {
        services.AddOptions<ApiDocsOptions>().BindConfiguration(ApiDocsOptions.SectionName);
        return services.AddOpenApi("v1", options => options
            .AddDocumentTransformer((document, _, _) =>
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
            })
            .AddDocumentTransformer(KeepTrailingSlashes)
            .AddDocumentTransformer(DeclareSecurity)
            .AddDocumentTransformer(ReadingOrder.Apply)
            .AddDocumentTransformer(RateLimitDescription.Apply)
            .AddDocumentTransformer(ApiExamples.Apply)
            .AddDocumentTransformer(MultipartFormDescription.DropBareFileSchema)
            .AddSchemaTransformer(RequiredMembers.Apply));
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and Swagger UI at <c>/docs</c>, unless <c>OpenApi:Enabled</c> is false.</summary>
    public static WebApplication MapAapOpenApi(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<ApiDocsOptions>>().Value.Enabled)
        {
            return app;
        }

        app.MapOpenApi("/openapi/{documentName}.json");
        var script = ReadingOrder.DocsScript();
        app.MapGet(ReadingOrder.DocsScriptPath, () => Results.Text(script, "text/javascript; charset=utf-8"))
            .ExcludeFromDescription().AllowAnonymous();
        // In a branch for /docs: Swagger UI's middleware matches every GET's path against its pages with regular
        // expressions, a cost each API request would otherwise pay to be passed on.
        app.UseWhen(context => context.Request.Path.StartsWithSegments(DocsPath), docs => docs.UseSwaggerUI(options =>
        {
            options.RoutePrefix = DocsPath.Value![1..];
            options.DocumentTitle = "AAP API";
            options.SwaggerEndpoint(DocumentPath, "AAP v1");
            options.DocExpansion(Swashbuckle.AspNetCore.SwaggerUI.DocExpansion.List);
            options.InjectJavascript(ReadingOrder.DocsScriptPath);
        }));
        return app;
    }

    /// <summary>
    /// Declares how a caller authenticates (a bearer access token, or Basic credentials) and, on each operation that
    /// needs a caller, that either is accepted; public operations declare none. Swagger UI shows its Authorize
    /// button from this, and sends the token with "Try it out".
    /// </summary>
    internal static Task DeclareSecurity(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The access_token of POST /api/v1/auth/login (30 s by default; refresh with POST /api/v1/auth/refresh).",
        };
        document.Components.SecuritySchemes[BasicScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "basic",
            Description = "Username or email, and password (RFC 7617, UTF-8); limited like every password check.",
        };

        var protectedOperations = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(Security.EndpointAccess.RequiresCaller)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        foreach (var operation in document.Paths?.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []) ?? [])
        {
            if (operation.OperationId is { } id && protectedOperations.Contains(id))
            {
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BasicScheme, document)] = [] },
                ];
            }
        }

        return Task.CompletedTask;
    }

    public const string BearerScheme = "bearer";
    public const string BasicScheme = "basic";

    /// <summary>
    /// Marks routes whose clients call them with a trailing slash (<see cref="WithTrailingSlash"/>). The route
    /// pattern cannot tell: a group's <c>MapGet("")</c> (<c>/api/v1/me</c>) also ends its pattern with one.
    /// </summary>
    internal sealed class TrailingSlashMetadata;

    /// <summary>Lists these routes in the OpenAPI document with the trailing slash their patterns are declared with.</summary>
    public static TBuilder WithTrailingSlash<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new TrailingSlashMetadata());

    /// <summary>
    /// The generator drops a route's trailing slash (<c>/api/apps/create/</c> becomes <c>/api/apps/create</c>), but the
    /// seed routes are called with it: each operation of an endpoint marked <see cref="WithTrailingSlash"/> is moved back
    /// to the path its clients call. Operations are matched through their operation id (every endpoint has a name).
    /// </summary>
    internal static Task KeepTrailingSlashes(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var slashed = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.EndsWith('/') == true && e.RoutePattern.RawText != "/" && e.Metadata.GetMetadata<TrailingSlashMetadata>() is not null)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        if (document.Paths is null || slashed.Count == 0)
        {
            return Task.CompletedTask;
        }

        foreach (var (path, item) in document.Paths.Where(p => !p.Key.EndsWith('/')).ToList())
        {
            var moving = item.Operations?.Where(o => o.Value.OperationId is { } id && slashed.Contains(id)).ToList() ?? [];
            if (moving.Count == 0 || item is not OpenApiPathItem source)
            {
                continue;
            }

            if (!document.Paths.TryGetValue(path + "/", out var existing) || existing is not OpenApiPathItem target)
            {
                target = new OpenApiPathItem { Parameters = source.Parameters, Summary = source.Summary, Description = source.Description };
                document.Paths[path + "/"] = target;
            }

            target.Operations ??= [];
            foreach (var (method, operation) in moving)
            {
                target.Operations[method] = operation;
                source.Operations!.Remove(method);
            }

            if (source.Operations!.Count == 0)
            {
                document.Paths.Remove(path);
            }
        }

        return Task.CompletedTask;
    }
}
