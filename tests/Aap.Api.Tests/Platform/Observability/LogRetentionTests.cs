using System.Globalization;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The log folder after writing past each limit: files roll at <c>Log:FileSizeLimitBytes</c>, and only the newest
/// <c>Log:RetainedFileCount</c> files, the files of the last <c>Log:RetainedDays</c> days and the newest files within
/// <c>Log:RetainedTotalBytes</c> remain. A tiny size limit makes the rolls happen; nothing waits on a clock.
/// </summary>
public sealed class LogRetentionTests
{
    private const int Probes = 400;

    [Fact]
    public async Task Files_roll_at_the_size_limit_and_only_the_newest_are_kept()
    {
        await using var host = new SqliteFactory();
        host.With("Log:FileSizeLimitBytes", "1024").With("Log:RetainedFileCount", "3");

        await WriteProbesAsync(host);

        var files = LogFolder(host);
        files.Count.ShouldBe(3);
        // Written past 60 KB: the first files are gone, the last probe is in the newest.
        files.ShouldNotContain(f => f.Name == $"aap-{Today}.json");
        files.ShouldAllBe(f => f.Length < 8 * 1024);
        ProbeNumbers(host).ShouldContain(Probes - 1);
        ProbeNumbers(host).ShouldNotContain(0);
    }

    [Fact]
    public async Task The_oldest_files_are_deleted_beyond_the_total_size_of_the_folder()
    {
        await using var host = new SqliteFactory();
        host.With("Log:FileSizeLimitBytes", "1024").With("Log:RetainedFileCount", "1000").With("Log:RetainedTotalBytes", "8192");

        await WriteProbesAsync(host);

        var newestFirst = LogFolder(host).OrderByDescending(f => f.Name.Length).ThenByDescending(f => f.Name, StringComparer.Ordinal).ToList();
        newestFirst.Count.ShouldBeGreaterThan(2);
        newestFirst.Skip(1).Sum(f => f.Length).ShouldBeLessThanOrEqualTo(8192);
        var numbers = ProbeNumbers(host);
        numbers.ShouldContain(Probes - 1);
        numbers.ShouldNotContain(0);
        // What remains is the newest run of events, without a gap.
        numbers.Count.ShouldBe(numbers.Max() - numbers.Min() + 1);
    }

    [Fact]
    public async Task Files_older_than_the_retained_days_are_deleted_and_other_files_left_alone()
    {
        await using var host = new SqliteFactory();
        host.With("Log:RetainedDays", "3");
        var folder = Directory.CreateDirectory(Path.Combine(host.DataDirectory, "logs")).FullName;
        var yesterday = $"aap-{DateTime.Now.AddDays(-1):yyyyMMdd}.json";
        foreach (var name in new[] { "aap-20200101.json", "aap-20200102_001.json", yesterday, "notes.txt" })
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), "{\"@t\":\"2020-01-01T00:00:00Z\",\"@mt\":\"old\"}\n", TestContext.Current.CancellationToken);
        }

        await host.InitializeAsync();
        await host.DisposeLoggingAsync();

        var names = Directory.GetFiles(folder).Select(Path.GetFileName).ToList();
        names.ShouldNotContain("aap-20200101.json");
        names.ShouldNotContain("aap-20200102_001.json");
        names.ShouldContain(yesterday);
        names.ShouldContain("notes.txt");
        names.ShouldContain($"aap-{Today}.json");
    }

    private static string Today => DateTime.Now.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Starts the host, logs <see cref="Probes"/> events of ~200 bytes each and stops it, so that every file is complete.</summary>
    private static async Task WriteProbesAsync(AapFactory host)
    {
        await host.InitializeAsync();
        var logger = host.Services.GetRequiredService<Serilog.ILogger>();
        var padding = new string('p', 100);
        for (var i = 0; i < Probes; i++)
        {
            logger.Information("Retention probe {ProbeNumber} {Padding}", i, padding);
        }

        await host.DisposeLoggingAsync();
    }

    private static List<FileInfo> LogFolder(AapFactory host) =>
        new DirectoryInfo(Path.Combine(host.DataDirectory, "logs")).GetFiles().ToList();

    private static List<int> ProbeNumbers(AapFactory host) =>
        LogFiles.ReadAll(host.DataDirectory)
            .Where(l => l.Contains("Retention probe", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("ProbeNumber").GetInt32())
            .ToList();
}
