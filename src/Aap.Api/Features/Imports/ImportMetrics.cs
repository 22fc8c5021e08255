using System.Diagnostics.Metrics;

namespace Aap.Api.Features.Imports;

/// <summary>
/// The meter <c>aap.imports</c>: CSV imports ended on this process, by outcome (succeeded, refused, failed), with their
/// durations, and the rows they read by outcome (loaded, rejected). A dry run counts its rows as it would have loaded them, labelled <c>dry_run</c>.
/// </summary>
internal sealed class ImportMetrics
{
    public const string MeterName = "aap.imports";

    private readonly Counter<long> _runs;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _duration;

    public ImportMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _runs = meter.CreateCounter<long>("aap.imports.runs", "{import}", "CSV imports ended, by outcome (succeeded, refused: a 4xx problem, failed: an error) and mode.");
        _rows = meter.CreateCounter<long>("aap.imports.rows", "{row}", "Rows of CSV imports, by outcome (loaded, rejected, dry_run).");
        _duration = meter.CreateHistogram("aap.imports.duration", "s", "How long CSV imports took, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] });
    }

    public void Ended(string outcome, ImportMode mode, TimeSpan elapsed, long loaded, long rejected, bool dryRun)
    {
        _runs.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("mode", mode.ToString().ToLowerInvariant()));
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
        if (loaded > 0)
        {
            _rows.Add(loaded, new KeyValuePair<string, object?>("outcome", dryRun ? "dry_run" : "loaded"));
        }

        if (rejected > 0)
        {
            _rows.Add(rejected, new KeyValuePair<string, object?>("outcome", "rejected"));
        }
    }
}
