using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Platform.Jobs.JobRunConfiguration))]

namespace Aap.Api.Platform.Jobs;

/// <summary>The states of a run: queued (asked for, not yet started), running, then succeeded, failed or cancelled.</summary>
internal static class JobRunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] Active = [Queued, Running];
}

/// <summary>One run of a job (one attempt of one occurrence), in <c>job_runs</c>.</summary>
internal sealed class JobRun
{
    public required string Id { get; set; }

    public required string Job { get; set; }

    /// <summary>Quartz's fire instance id: the occurrence this run belongs to.</summary>
    public string? Occurrence { get; set; }

    /// <summary>When the occurrence was due, by the scheduler's clock (null for a run from the command line).</summary>
    public DateTime? ScheduledAt { get; set; }

    /// <summary>The scheduler instance (node) that ran it.</summary>
    public string? Node { get; set; }

    public required string Status { get; set; }

    public bool Manual { get; set; }

    /// <summary>0 for the first try of an occurrence, n for its n-th retry.</summary>
    public int Attempt { get; set; }

    public long? Items { get; set; }

    /// <summary>What went wrong, in one line (no stack trace: that is in the log).</summary>
    public string? Error { get; set; }

    public DateTime QueuedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }
}

internal sealed class JobRunConfiguration : IEntityTypeConfiguration<JobRun>
{
    public void Configure(EntityTypeBuilder<JobRun> run)
    {
        run.ToTable("job_runs");
        run.Property(r => r.Id).HasMaxLength(40);
        run.Property(r => r.Job).HasMaxLength(100);
        run.Property(r => r.Occurrence).HasMaxLength(200);
        run.Property(r => r.Node).HasMaxLength(200);
        run.Property(r => r.Status).HasMaxLength(20);
        run.Property(r => r.Error).HasMaxLength(500);
        run.HasIndex(r => new { r.Job, r.QueuedAt, r.Id });
        run.HasIndex(r => r.Status);
    }
}
