using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Jobs.Maintenance;

/// <summary>Deletes the idempotency records whose retention has passed: their keys are forgotten already.</summary>
internal sealed class ExpireIdempotencyRecordsJob(AppDbContext db, TimeProvider clock) : IScheduledJob
{
    public const string Name = "idempotency-expiry";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.Set<IdempotencyRecord>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
    }
}

/// <summary>Deletes finished runs older than <c>Jobs:HistoryDays</c>.</summary>
internal sealed class TrimJobHistoryJob(AppDbContext db, TimeProvider clock, IOptions<JobsOptions> options) : IScheduledJob
{
    public const string Name = "job-history-trim";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow().UtcDateTime.AddDays(-options.Value.HistoryDays);
        return await db.Set<JobRun>().Where(r => r.FinishedAt != null && r.FinishedAt < before).ExecuteDeleteAsync(cancellationToken);
    }
}

internal static class PlatformJobs
{
    public static IHostApplicationBuilder AddPlatformJobs(this IHostApplicationBuilder builder)
    {
        builder.AddRecurringJob<ExpireIdempotencyRecordsJob>(ExpireIdempotencyRecordsJob.Name,
            "Hourly: delete idempotency records past their retention.", "0 15 * * * ?");
        builder.AddRecurringJob<TrimJobHistoryJob>(TrimJobHistoryJob.Name,
            "Daily 03:40: delete job runs older than Jobs:HistoryDays.", "0 40 3 * * ?");
        return builder;
    }
}
