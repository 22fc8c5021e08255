using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Observability;

internal sealed record StatusResponse(string Name, string Version, string Environment, string Database, DateTime ServerTime, bool RunsJobs);

/// <summary><c>GET /api/v1/status</c>: what is running, for people and monitors.</summary>
internal static class StatusEndpoints
{
    public static IEndpointRouteBuilder MapStatusEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Everything but the time is fixed for the process's life: read once here, not parsed again for every request.
        var services = endpoints.ServiceProvider;
        var facts = new StatusFacts(
            services.GetRequiredService<IHostEnvironment>().EnvironmentName,
            services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ProviderKind.ToString().ToLowerInvariant(),
            services.GetRequiredService<IOptions<JobsOptions>>().Value.Enabled);
        endpoints.MapGet("/api/v1/status", (TimeProvider clock) => GetStatus(facts, clock))
            .WithName("GetStatus")
            .WithTags("Status")
            .WithSummary("Service version, environment, database provider, server time, and whether this node runs scheduled jobs.")
            .AllowAnonymous();
        return endpoints;
    }

    internal static Ok<Envelope<StatusResponse>> GetStatus(StatusFacts facts, TimeProvider clock) =>
        TypedResults.Ok(new Envelope<StatusResponse>(new StatusResponse(
            "aap", Version, facts.Environment, facts.Database, clock.GetUtcNow().UtcDateTime, facts.RunsJobs)));

    internal sealed record StatusFacts(string Environment, string Database, bool RunsJobs);

    private static readonly string Version = typeof(StatusEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
