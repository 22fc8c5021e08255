using System.Globalization;
using System.Text;
using Aap.Api.Features.Imports;
using Aap.Api.Platform.Http;
using Aap.Api.Tests.Infrastructure;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>The JSON log file holds one event per import and per chunk, with the import's id, and the full exception of a failed import.</summary>
public sealed class CsvImportLogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_import_logs_one_event_per_chunk_and_one_when_done_and_a_failure_with_its_exception()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var file = Path.Combine(host.DataDirectory, "log.csv");
        var text = new StringBuilder("n\n");
        for (var i = 1; i <= 2500; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i}\n");
        }

        await File.WriteAllTextAsync(file, text.ToString(), Ct);
        var done = await host.ServiceAsync<CsvImportService, Result<ImportSummary>>(s =>
            s.ImportAsync(file, new CsvImportOptions { Table = "logged", ChunkRows = 1000 }, null, Ct));
        var id = done.Value.ImportId.ToString();

        // Cancelled after its first chunk: an exception, logged whole, and nothing written.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var progress = new CancelAfterFirstChunk(cancel);
        await Should.ThrowAsync<OperationCanceledException>(host.ServiceAsync<CsvImportService, Result<ImportSummary>>(s =>
            s.ImportAsync(file, new CsvImportOptions { Table = "cancelled", ChunkRows = 1000 }, progress, cancel.Token)));
        await host.DisposeLoggingAsync();

        var log = LogFiles.ReadAll(host.DataDirectory);
        var mine = log.Where(l => l.Contains($"\"ImportId\":\"{id}\"", StringComparison.Ordinal)).ToList();
        mine.Count(l => l.Contains("\"Name\":\"LogChunk\"", StringComparison.Ordinal)).ShouldBe(3, string.Join("\n", mine));
        mine.ShouldContain(l => l.Contains("\"Name\":\"LogImported\"", StringComparison.Ordinal) && l.Contains("\"RowsLoaded\":2500", StringComparison.Ordinal));
        var failed = log.Where(l => l.Contains("\"Name\":\"LogFailed\"", StringComparison.Ordinal) && l.Contains("\"Table\":\"cancelled\"", StringComparison.Ordinal))
            .ToList().ShouldHaveSingleItem();
        failed.ShouldContain("OperationCanceledException");
        failed.ShouldContain("at Aap.Api.Features.Imports.CsvImportService");
        failed.ShouldContain("\"ImportId\":\"");
    }

    private sealed class CancelAfterFirstChunk(CancellationTokenSource cancel) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value)
        {
            if (value.RowsRead >= 1000)
            {
                cancel.Cancel();
            }
        }
    }
}
