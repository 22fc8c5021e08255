using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Aap.Api.Platform.Observability;

/// <summary>The meter <c>aap.jobs</c>: runs of scheduled and queued jobs, by job (label job_name, because Prometheus keeps "job" for the target) and outcome, with their durations.</summary>
internal sealed class JobMetrics
{
    public const string MeterName = "aap.jobs";

    private readonly Counter<long> _runs;
    private readonly Histogram<double> _duration;

    public JobMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _runs = meter.CreateCounter<long>("aap.jobs.runs", "{run}", "Job runs ended on this node, by job (label job_name: Prometheus keeps job for the target) and outcome (succeeded, failed, cancelled).");
        _duration = meter.CreateHistogram("aap.jobs.run.duration", "s", "How long job runs took, by job_name and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] });
    }

    public void Ran(string job, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "job_name", job }, { "outcome", outcome } };
        _runs.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }
}
