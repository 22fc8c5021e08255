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
        endpoints.MapGet("/api/v1/status", GetStatus)
            .WithName("GetStatus")
            .WithTags("Status")
            .WithSummary("Service version, environment, database provider, server time, and whether this node runs scheduled jobs.")
            .AllowAnonymous();
        return endpoints;
    }

    internal static Ok<Envelope<StatusResponse>> GetStatus(IHostEnvironment environment, IOptions<DatabaseOptions> database, IOptions<JobsOptions> jobs, TimeProvider clock) =>
        TypedResults.Ok(new Envelope<StatusResponse>(new StatusResponse(
            "aap",
            Version,
            environment.EnvironmentName,
            database.Value.ProviderKind.ToString().ToLowerInvariant(),
            clock.GetUtcNow().UtcDateTime,
            jobs.Value.Enabled)));

    private static readonly string Version = typeof(StatusEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
