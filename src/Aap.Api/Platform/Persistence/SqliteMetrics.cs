using System.Diagnostics.Metrics;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// The meter <c>aap.sqlite</c>, on the embedded database only: the bytes SQLite's own allocator holds in this process
/// (every pooled connection's page cache, parsed schema and prepared statements) and the most it has held since the
/// start. It is native memory, which the runtime's counters do not see; the process's resident memory includes it.
/// </summary>
internal sealed class SqliteMetrics
{
    public const string MeterName = "aap.sqlite";

    public SqliteMetrics(IMeterFactory meters)
    {
        // SQLite's library is made ready by the first connection; a scrape may come before the first connection.
        SQLitePCL.Batteries_V2.Init();
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("aap.sqlite.memory", static () => SQLitePCL.raw.sqlite3_memory_used(), "By",
            "Bytes SQLite's allocator holds in this process: page caches, schemas, statements.");
        meter.CreateObservableGauge("aap.sqlite.memory.peak", static () => SQLitePCL.raw.sqlite3_memory_highwater(0), "By",
            "The most bytes SQLite's allocator has held in this process since it started.");
    }
}
