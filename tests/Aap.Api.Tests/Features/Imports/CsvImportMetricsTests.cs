using Aap.Api.Features.Imports;
using Aap.Api.Platform.Http;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>Imports are counted in the meter <c>aap.imports</c>: runs by outcome and mode, rows by outcome, durations.</summary>
public sealed class CsvImportMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Runs_and_rows_are_counted_by_outcome_after_a_loaded_a_dry_and_a_refused_import()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var file = Path.Combine(host.DataDirectory, "people.csv");
        // Five rows with a name, two without (the name is required): 5 loaded, 2 rejected.
        await File.WriteAllTextAsync(file, "id,name\n1,ada\n2,bob\n3,\n4,cy\n5,\n6,di\n7,ed\n", Ct);

        var loaded = await ImportAsync(host, file, new CsvImportOptions { Table = "people", Key = "id", Required = ["name"] });
        var dry = await ImportAsync(host, file, new CsvImportOptions { Table = "people_dry", Key = "id", Required = ["name"], DryRun = true });
        var refused = await ImportAsync(host, file, new CsvImportOptions { Table = "!!!" });

        loaded.Value.RowsLoaded.ShouldBe(5);
        dry.Succeeded.ShouldBeTrue();
        refused.Succeeded.ShouldBeFalse();
        refused.Failure.Detail.ShouldContain("no letter or digit");
        var scrape = await MetricsTests.ScrapeAsync(host);
        scrape.Sum("aap_imports_runs_total", ("outcome", "succeeded"), ("mode", "create")).ShouldBe(2);
        scrape.Sum("aap_imports_runs_total", ("outcome", "refused")).ShouldBe(1);
        scrape.Sum("aap_imports_rows_total", ("outcome", "loaded")).ShouldBe(5);
        scrape.Sum("aap_imports_rows_total", ("outcome", "dry_run")).ShouldBe(5);
        scrape.Sum("aap_imports_rows_total", ("outcome", "rejected")).ShouldBe(4);
        scrape.Sum("aap_imports_duration_seconds_count", ("outcome", "succeeded")).ShouldBe(2);
    }

    private static Task<Result<ImportSummary>> ImportAsync(AapFactory host, string file, CsvImportOptions options) =>
        host.ServiceAsync<CsvImportService, Result<ImportSummary>>(s => s.ImportAsync(file, options, null, Ct));
}
