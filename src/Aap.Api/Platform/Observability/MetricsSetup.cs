using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform.Http;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// Metrics and traces through OpenTelemetry: ASP.NET Core's, Kestrel's, the runtime's, EF Core's and Npgsql's
/// meters, and every AAP meter (<c>aap.*</c>, one per feature, see docs/observability.md). Metrics are scraped at
/// <c>GET /metrics</c> (Prometheus text); metrics and traces are also pushed to an OTLP collector when
/// <c>OpenTelemetry:Endpoint</c> is set.
/// </summary>
internal static class MetricsSetup
{
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// The meters exported by default: the framework's that describe requests, connections and errors (by name) and
    /// AAP's own (all named <c>aap.</c>...). ASP.NET Core's per-request meters of routing, rate limiting,
    /// authentication and authorization are left out (each records on every request; AAP's own meters count what
    /// they would tell: rate-limit rejections, sign-ins by outcome): <c>Metrics:ExtraMeters</c> adds any of them.
    /// </summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.EntityFrameworkCore",
        "Npgsql",
        "System.Net.Http",
        "aap.*",
    ];

    /// <summary>The source whose activities are the requests' traces (ASP.NET Core's hosting).</summary>
    private const string RequestSource = "Microsoft.AspNetCore";

    public static WebApplicationBuilder AddAapMetrics(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OpenTelemetryOptions>().BindConfiguration(OpenTelemetryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var otel = builder.Configuration.GetSection(OpenTelemetryOptions.SectionName).Get<OpenTelemetryOptions>() ?? new OpenTelemetryOptions();
        var endpoint = Uri.TryCreate(otel.Endpoint, UriKind.Absolute, out var parsed) ? parsed : null;
        var protocol = otel.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        // Metrics:Enabled=false with no collector: no meter provider at all, so no instrument has a listener and
        // recording a measurement costs nothing (not only no route).
        var measure = builder.Configuration.GetValue(MetricsOptions.SectionName + ":" + nameof(MetricsOptions.Enabled), true) || endpoint is not null;

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(otel.ServiceName, serviceVersion: typeof(MetricsSetup).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: Environment.MachineName));
        if (measure)
        {
            telemetry.WithMetrics(metrics =>
            {
                var extra = builder.Configuration.GetSection(MetricsOptions.SectionName + ":" + nameof(MetricsOptions.ExtraMeters)).Get<string[]>() ?? [];
                var exported = new HashSet<string>([.. Meters, .. extra], StringComparer.Ordinal);
                // ASP.NET Core's instrumentation adds every built-in ASP.NET Core meter (and the error type of 5xx
                // answers); those not exported are dropped below, so that their instruments are never enabled.
                metrics.AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter([.. Meters, .. extra])
                    // Every scrape collects afresh: a scrape right after a request sees it (Prometheus scrapes seldom).
                    .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                // Meters are matched by name across the process: a second host in the same process (the tests run
                // many) would otherwise be counted here too. Meters of no container (the runtime's) stay.
                ((IDeferredMeterProviderBuilder)metrics).Configure((provider, builder) =>
                {
                    var own = provider.GetRequiredService<IMeterFactory>();
                    builder.AddView(instrument =>
                        (instrument.Meter.Scope is IMeterFactory other && !ReferenceEquals(other, own)) ||
                        (instrument.Meter.Name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal) && !exported.Contains(instrument.Meter.Name))
                            ? MetricStreamConfiguration.Drop
                            : null);
                });
                if (endpoint is not null)
                {
                    metrics.AddOtlpExporter(o => (o.Endpoint, o.Protocol) = (endpoint, protocol));
                }
            });
        }

        if (endpoint is null)
        {
            // Nothing leaves the process: each request still gets a trace and span id (taken from an incoming
            // traceparent, or new) for its log events, but no span is recorded, so no tag is collected.
            PropagationOnly.Start();
        }
        else
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context =>
                        !context.Request.Path.StartsWithSegments(ScrapePath) && !context.Request.Path.StartsWithSegments("/health"))
                    .AddSource("Npgsql")
                    .AddOtlpExporter(o => (o.Endpoint, o.Protocol) = (endpoint, protocol));
            });
        }

        return builder;
    }

    /// <summary>
    /// One process-wide listener that gives ASP.NET Core's request activities their ids (W3C trace context, the
    /// parent from <c>traceparent</c>) without recording them: <see cref="ActivitySamplingResult.PropagationData"/>.
    /// </summary>
    private static class PropagationOnly
    {
        private static readonly Lazy<ActivityListener> Listener = new(() =>
        {
            var listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == RequestSource,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            };
            ActivitySource.AddActivityListener(listener);
            return listener;
        });

        public static void Start() => _ = Listener.Value;
    }

    /// <summary><c>GET /metrics</c> in Prometheus text, behind <see cref="MetricsGuard"/>.</summary>
    public static IEndpointRouteBuilder MapAapMetrics(this IEndpointRouteBuilder endpoints)
    {
        if (!endpoints.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled)
        {
            return endpoints;
        }

        endpoints.MapPrometheusScrapingEndpoint(ScrapePath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(MetricsGuard.InvokeAsync), optionsName: null)
            .WithName("Metrics")
            .ExcludeFromDescription();
        return endpoints;
    }
}

/// <summary>Who may scrape: the holder of <c>Metrics:Token</c>, or, with no token set, loopback callers only.</summary>
internal static class MetricsGuard
{
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var token = context.RequestServices.GetRequiredService<IOptions<MetricsOptions>>().Value.Token;
        if (string.IsNullOrEmpty(token))
        {
            if (context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address))
            {
                await next(context);
                return;
            }

            await WriteProblemAsync(context, StatusCodes.Status403Forbidden,
                "Metrics are served to loopback callers only; set Metrics:Token to scrape from elsewhere.");
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token)))
        {
            await next(context);
            return;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
        await WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Send the metrics token (Metrics:Token) as a bearer token.");
    }

    private static async Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Detail = detail };
        problem.Extensions["code"] = ProblemCodes.ForStatus(status);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
