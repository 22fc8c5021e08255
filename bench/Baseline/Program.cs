using System.Text.Json;
using OpenTelemetry.Metrics;
using Prometheus;

// The smallest ASP.NET Core app that answers AAP's status route with a body of the same shape: what bench/http.sh
// divides AAP's throughput by, so the ratio is what AAP's platform costs over the framework's defaults.
// Logging is at Warning so that it costs nothing per request.
//
// --metrics=otel adds what AAP's metrics cost per request with OpenTelemetry (ASP.NET Core instrumentation and the
// Prometheus exporter at GET /metrics, as Platform/Observability/MetricsSetup.cs sets them up); --metrics=prometheus-net
// adds prometheus-net's HTTP metrics (UseHttpMetrics, GET /metrics) instead. Without it, no metrics at all.
//
// --serve=PATH=FILE (any number of them) answers GET PATH with FILE's bytes, read once at start and served from memory
// (JSON or HTML by the file's extension): AAP's own answer of a route, captured, so that a ratio against it is what
// producing that answer costs AAP over writing the same bytes.
var metrics = args.Select(a => a.StartsWith("--metrics=", StringComparison.Ordinal) ? a["--metrics=".Length..] : null).LastOrDefault(a => a is not null) ?? "none";
if (metrics is not ("none" or "otel" or "prometheus-net"))
{
    Console.Error.WriteLine($"--metrics must be none, otel or prometheus-net, not '{metrics}'.");
    return 2;
}

var served = new List<(string Path, byte[] Body, string ContentType)>();
foreach (var serve in args.Where(a => a.StartsWith("--serve=", StringComparison.Ordinal)))
{
    var (path, file) = serve["--serve=".Length..].Split('=', 2) is [var p, var f] ? (p, f) : (null, null);
    if (path is null || !path.StartsWith('/') || file is null || !File.Exists(file))
    {
        Console.Error.WriteLine($"--serve must be PATH=FILE with a path starting with / and an existing file, not '{serve}'.");
        return 2;
    }

    var type = Path.GetExtension(file) is ".html" or ".htm" ? "text/html; charset=utf-8" : "application/json; charset=utf-8";
    served.Add((path, File.ReadAllBytes(file), type));
}

var builder = WebApplication.CreateBuilder(args.Where(a => !a.StartsWith("--metrics=", StringComparison.Ordinal) && !a.StartsWith("--serve=", StringComparison.Ordinal)).ToArray());
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
if (metrics == "otel")
{
    // AddAspNetCoreInstrumentation is ASP.NET Core's own meters (hosting, Kestrel, routing, diagnostics, rate limiting).
    builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddAspNetCoreInstrumentation()
        .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
}
else if (metrics == "prometheus-net")
{
    // Its HTTP metrics only: by default prometheus-net also listens to every System.Diagnostics.Metrics meter
    // (ASP.NET Core's among them) and to the runtime's event counters, which would count each request twice.
    Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });
}

var app = builder.Build();
if (metrics == "prometheus-net")
{
    app.UseRouting();
    app.UseHttpMetrics();
    app.MapMetrics();
}
else if (metrics == "otel")
{
    app.MapPrometheusScrapingEndpoint();
}

app.MapGet("/api/v1/status", GetStatus);
foreach (var (path, body, type) in served)
{
    app.MapGet(path, () => TypedResults.Bytes(body, type));
}

app.Run();
return 0;

static Microsoft.AspNetCore.Http.HttpResults.Ok<Envelope> GetStatus(IHostEnvironment environment, TimeProvider clock) =>
    TypedResults.Ok(new Envelope(new Status("baseline", "0.0.0", environment.EnvironmentName, "none", clock.GetUtcNow().UtcDateTime)));

internal sealed record Envelope(Status Data);

internal sealed record Status(string Name, string Version, string Environment, string Database, DateTime ServerTime);
