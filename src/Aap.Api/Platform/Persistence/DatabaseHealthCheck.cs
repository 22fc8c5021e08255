using Aap.Api.Platform.Persistence.Migrations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Ready when the database answers, every migration this build knows has been applied, and none that a newer build
/// applied says it breaks older nodes (docs/database.md#rolling-upgrades).
/// </summary>
internal sealed class DatabaseHealthCheck(DatabaseMigrator migrator) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var status = await migrator.GetStatusAsync(cancellationToken);
            return status.Pending.Count == 0
                ? HealthCheckResult.Healthy($"{status.Applied.Count} migrations applied")
                : HealthCheckResult.Unhealthy($"{status.Pending.Count} migrations pending");
        }
        catch (IncompatibleDatabaseException ex)
        {
            // A newer build's breaking migration: this node must leave the load balancer's rotation, not fail requests.
            return HealthCheckResult.Unhealthy(ex.Message);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The exception is logged by the health check service; the body only says what is wrong, not how.
            return HealthCheckResult.Unhealthy("database unreachable", ex);
        }
    }
}
