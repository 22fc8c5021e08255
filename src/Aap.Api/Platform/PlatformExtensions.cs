using System.Text.Json;
using System.Text.Json.Serialization;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Caching;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Jobs.Maintenance;
using Aap.Api.Platform.Observability;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.RateLimiting;
using Aap.Api.Platform.Redis;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.AspNetCore.HttpOverrides;

namespace Aap.Api.Platform;

/// <summary>
/// What every feature stands on: configuration, persistence, HTTP conventions, security, runtime settings and
/// observability, with the platform's own routes (health, status, settings, the OpenAPI document).
/// </summary>
internal static class PlatformExtensions
{
    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);

        builder.AddAapLogging();
        builder.AddAapMetrics();
        builder.AddPersistence();
        builder.AddAapDataProtection();

        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var http = builder.Configuration.GetSection(HttpOptions.SectionName).Get<HttpOptions>() ?? new HttpOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = http.MaxRequestBodyBytes;
        });
        if (http.TrustForwardedHeaders)
        {
            services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<HttpOptions>>((forwarded, validated) =>
            {
                // Only the configured proxies (not the loopback defaults, not everyone): HttpOptions refuses to start
                // with the flag on and no proxy listed.
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                forwarded.KnownIPNetworks.Clear();
                forwarded.KnownProxies.Clear();
                foreach (var proxy in validated.Value.ProxyAddresses())
                {
                    forwarded.KnownProxies.Add(proxy);
                }

                foreach (var network in validated.Value.ProxyNetworks())
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
            });
        }

        services.ConfigureHttpJsonOptions(json => ConfigureJson(json.SerializerOptions));
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = Problems.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddSingleton<DependencyMetrics>();
        services.AddValidation();
        services.AddScoped<IdempotencyStore>();

        services.AddOptions<SecurityHeadersOptions>().BindConfiguration(SecurityHeadersOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddAapCors();
        services.AddAapRedis(builder.Configuration);
        services.AddClusterSignals();
        services.AddSharedOutputCache(builder.Configuration);
        services.AddAapRateLimiting();
        services.AddAapOpenApi();
        services.AddRuntimeSettings();
        services.AddAuditLog();
        builder.AddJobs();
        builder.AddPlatformJobs();
        return builder;
    }

    /// <summary>snake_case on the wire, enums as strings, unknown fields ignored, nothing lenient about types.</summary>
    public static void ConfigureJson(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.DictionaryKeyPolicy = null;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        json.NumberHandling = JsonNumberHandling.Strict;
        json.ReadCommentHandling = JsonCommentHandling.Disallow;
        json.AllowTrailingCommas = false;
        json.MaxDepth = 32;
    }

    public static WebApplication UsePlatform(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HttpOptions>>().Value.TrustForwardedHeaders)
        {
            app.UseForwardedHeaders();
        }

        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseAapRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<JsonBodyBuffering>();
        app.UseRouting();
        app.UseCors();
        app.MapAapOpenApi();
        return app;
    }

    /// <summary>
    /// The root of the service's routes: the platform's own (health, metrics, status, settings, audit, jobs) are mapped
    /// on it, and the features map theirs on it too, so that what applies to every route is said once here.
    /// </summary>
    public static IEndpointRouteBuilder MapPlatformRoutes(this WebApplication app)
    {
        var routes = app.MapGroup("").ValidateOnlyWhatCanFail();
        routes.MapHealthEndpoints();
        routes.MapAapMetrics();
        routes.MapStatusEndpoints();
        routes.MapSettingsEndpoints();
        routes.MapAuditEndpoints();
        routes.MapJobs();
        return routes;
    }
}
