using System.Diagnostics.Metrics;

namespace Aap.Api.Features.Apps;

/// <summary>The meter <c>aap.apps</c>: look-ups in the catalog cache, hits and misses.</summary>
internal sealed class AppsMetrics
{
    public const string MeterName = "aap.apps";

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private readonly Counter<long> _lookups;

    public AppsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _lookups = meter.CreateCounter<long>("aap.apps.catalog_cache.lookups", "{lookup}", "Catalog cache look-ups, by result (hit, miss).");
    }

    public void CacheLookup(bool hit) => _lookups.Add(1, hit ? Hit : Miss);
}
