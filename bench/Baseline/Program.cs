using System.Text.Json;

// The smallest ASP.NET Core app that answers AAP's status route with a body of the same shape: what bench/http.sh
// divides AAP's throughput by, so the ratio is what AAP's platform costs over the framework's defaults.
// Logging is at Warning so that it costs nothing per request.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();
app.MapGet("/api/v1/status", GetStatus);
app.Run();

static Microsoft.AspNetCore.Http.HttpResults.Ok<Envelope> GetStatus(IHostEnvironment environment, TimeProvider clock) =>
    TypedResults.Ok(new Envelope(new Status("baseline", "0.0.0", environment.EnvironmentName, "none", clock.GetUtcNow().UtcDateTime)));

internal sealed record Envelope(Status Data);

internal sealed record Status(string Name, string Version, string Environment, string Database, DateTime ServerTime);
