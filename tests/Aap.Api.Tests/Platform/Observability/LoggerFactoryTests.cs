using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The services' logger factory makes a category's logger once (Serilog's makes a new one on every call, and some
/// callers ask on every request), and what those loggers write reaches the file, whoever asked first.
/// </summary>
public sealed class LoggerFactoryTests
{
    [Fact]
    public async Task A_category_has_one_logger_and_its_events_reach_the_file()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var factory = host.Services.GetRequiredService<ILoggerFactory>();

        var first = factory.CreateLogger("Aap.Probe");
        var second = factory.CreateLogger("Aap.Probe");
        var other = factory.CreateLogger("Aap.OtherProbe");

        second.ShouldBeSameAs(first);
        other.ShouldNotBeSameAs(first);
        first.LogWarning("Logger probe {ProbeNumber}", 1);
        second.LogWarning("Logger probe {ProbeNumber}", 2);
        other.LogWarning("Logger probe {ProbeNumber}", 3);
        await host.DisposeLoggingAsync();

        var probes = LogFiles.ReadAll(host.DataDirectory).Where(l => l.Contains("Logger probe", StringComparison.Ordinal)).ToList();
        probes.Count.ShouldBe(3, string.Join(Environment.NewLine, probes));
        probes.Count(l => l.Contains("\"SourceContext\":\"Aap.Probe\"", StringComparison.Ordinal)).ShouldBe(2);
        probes.Count(l => l.Contains("\"SourceContext\":\"Aap.OtherProbe\"", StringComparison.Ordinal)).ShouldBe(1);
    }
}
