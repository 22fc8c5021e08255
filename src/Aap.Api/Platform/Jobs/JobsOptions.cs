using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.Jobs;

/// <summary>The scheduler's settings (<c>Jobs:*</c>, docs/configuration.md).</summary>
internal sealed class JobsOptions : IValidatableObject
{
    public const string SectionName = "Jobs";

    /// <summary>False keeps this node to web requests: it still lists and queues jobs, other nodes run them.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The IANA (or Windows) time zone cron schedules are read in; UTC by default, so no DST change moves a run.</summary>
    [Required]
    public string TimeZone { get; set; } = "UTC";

    /// <summary>How long the run history is kept.</summary>
    [Range(1, 3650)]
    public int HistoryDays { get; set; } = 30;

    /// <summary>A missed occurrence later than this is a misfire (handled by the trigger's misfire instruction).</summary>
    [Range(1, 3600)]
    public int MisfireThresholdSeconds { get; set; } = 60;

    /// <summary>A failed run is retried this many times, with exponential backoff from <see cref="RetryDelaySeconds"/>.</summary>
    [Range(0, 10)]
    public int RetryAttempts { get; set; } = 3;

    [Range(1, 3600)]
    public int RetryDelaySeconds { get; set; } = 30;

    /// <summary>
    /// How long a stopping node waits for its scheduler (running jobs are told to stop at once) before it stops
    /// without it. The scheduler waits for a database it cannot reach, so during an outage only this ends its wait;
    /// shorter than an orchestrator's grace period (10 s for docker compose), so that the node still exits by itself.
    /// </summary>
    [Range(1, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 5;

    /// <summary>Cron overrides by job name (<c>Jobs:Schedules:refresh-token-purge = "0 0/5 * * * ?"</c>).</summary>
    public Dictionary<string, string> Schedules { get; set; } = new(StringComparer.Ordinal);

    public ClusterOptions Cluster { get; set; } = new();

    public MaintenanceOptions Maintenance { get; set; } = new();

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return new ValidationResult($"Jobs:TimeZone '{TimeZone}' is not a known time zone (use an IANA name such as Europe/Berlin, or UTC).", [nameof(TimeZone)]);
        }

        foreach (var (job, cron) in Schedules)
        {
            if (!Quartz.CronExpression.TryParse(cron, out _))
            {
                yield return new ValidationResult($"Jobs:Schedules:{job} '{cron}' is not a Quartz cron expression (seconds first: \"0 0 3 * * ?\").", [nameof(Schedules)]);
            }
        }

        if (Cluster.CheckinMisfireThresholdSeconds <= Cluster.CheckinIntervalSeconds)
        {
            yield return new ValidationResult("Jobs:Cluster:CheckinMisfireThresholdSeconds must be longer than Jobs:Cluster:CheckinIntervalSeconds.", [nameof(Cluster)]);
        }
    }

    internal sealed class ClusterOptions
    {
        /// <summary>How often a node tells the others it is alive (PostgreSQL only).</summary>
        [Range(1, 600)]
        public int CheckinIntervalSeconds { get; set; } = 10;

        /// <summary>How long a silent node is given before its runs are recovered by another (quartznet#2817: generous).</summary>
        [Range(2, 3600)]
        public int CheckinMisfireThresholdSeconds { get; set; } = 60;
    }

    internal sealed class MaintenanceOptions
    {
        /// <summary>Expired or revoked refresh tokens are deleted this many days after they stopped working.</summary>
        [Range(0, 3650)]
        public int RefreshTokenRetentionDays { get; set; } = 7;

        /// <summary>Deleted files are purged this many days after they were deleted.</summary>
        [Range(0, 3650)]
        public int DeletedFileRetentionDays { get; set; } = 7;
    }
}
