using System.Diagnostics.Metrics;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// The meter <c>aap.dependencies</c>: requests refused because a dependency was down (label <c>dependency</c>:
/// <c>database</c>, <c>storage</c>), one count per refused request, whatever route or page it was.
/// </summary>
internal sealed class DependencyMetrics
{
    public const string MeterName = "aap.dependencies";

    private readonly Counter<long> _failures;

    public DependencyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _failures = meter.CreateCounter<long>("aap.dependency.failures", "{request}",
            "Requests answered 503 (or 507) because a dependency was unavailable, by dependency (database, storage).");
    }

    public void Failed(string dependency) => _failures.Add(1, new KeyValuePair<string, object?>("dependency", dependency));
}
