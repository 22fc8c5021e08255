using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// Nothing a request or the application logged before the host stops may be missing from the log file once it has
/// stopped, however many events were logged at once (the guard for any change of how the file is written, such as a
/// background writer: a first try of one lost the last events before a stop).
/// </summary>
public sealed class LogFileShutdownTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_request_answered_right_before_a_stop_has_its_event_in_the_file()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var client = host.Client();
        var ids = Enumerable.Range(1, 200).Select(i => $"last-before-stop-{i}").ToList();

        // In parallel, so that events queue up; the host stops as soon as the last answer is in.
        await Task.WhenAll(ids.Select(async id =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
            request.Headers.Add("X-Request-ID", id);
            using var response = await client.SendAsync(request, Ct);
            response.EnsureSuccessStatusCode();
        }));
        await host.DisposeLoggingAsync();

        var requests = LogFiles.ReadAll(host.DataDirectory).Where(l => l.Contains("\"RequestPath\":\"/api/v1/status\"", StringComparison.Ordinal)).ToList();
        foreach (var id in ids)
        {
            requests.Count(l => l.Contains($"\"RequestId\":\"{id}\"", StringComparison.Ordinal)).ShouldBe(1, $"the request {id}");
        }
    }

    [Fact]
    public async Task A_service_process_stopped_by_SIGTERM_has_every_request_it_answered_in_its_log_file()
    {
        // The service as an operator runs it (its own process, the host's own stop on SIGTERM and dispose at exit),
        // where the file is written by the background writer: every request answered before the signal is in the file.
        // The anonymous limit is raised so that every request is answered rather than refused.
        await using var server = await Docs.DocServer.StartAsync(new Dictionary<string, string> { ["RateLimits__Anonymous__PermitLimit"] = "100000" }, Ct);
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        var ids = Enumerable.Range(1, 300).Select(i => $"answered-before-sigterm-{i}").ToList();
        await Task.WhenAll(ids.Select(async id =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
            request.Headers.Add("X-Request-ID", id);
            using var response = await http.SendAsync(request, Ct);
            response.EnsureSuccessStatusCode();
        }));

        var exitCode = await server.StopAsync(TimeSpan.FromSeconds(60));

        exitCode.ShouldBe(0, server.Output);
        var lines = LogFiles.ReadAll(server.DataDirectory);
        lines.ShouldAllBe(l => l.EndsWith('}'), "every line of the file is whole");
        var requests = lines.Where(l => l.Contains("\"RequestPath\":\"/api/v1/status\"", StringComparison.Ordinal)).ToList();
        foreach (var id in ids)
        {
            requests.Count(l => l.Contains($"\"RequestId\":\"{id}\"", StringComparison.Ordinal)).ShouldBe(1, $"the request {id}");
        }

        lines.ShouldContain(l => l.Contains("Application is shutting down", StringComparison.Ordinal), "the host's own last events are in the file too");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Many_events_logged_at_once_right_before_a_stop_are_all_in_the_file(int run)
    {
        _ = run;
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var logger = host.Services.GetRequiredService<Serilog.ILogger>();
        var count = 20_500;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(() =>
        {
            for (var i = writer; i < count; i += 4)
            {
                logger.Information("Shutdown probe {ProbeNumber}", i);
            }
        }, Ct)));
        await host.DisposeLoggingAsync();

        var lines = LogFiles.ReadAll(host.DataDirectory).ToList();
        var probes = lines.Where(l => l.Contains("Shutdown probe", StringComparison.Ordinal)).ToList();
        var broken = probes.Where(l => !l.EndsWith('}')).Select(l => $"line {lines.IndexOf(l)} of {lines.Count}: {l}").ToList();
        broken.ShouldBeEmpty(string.Join(Environment.NewLine, broken));
        var numbers = probes
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("ProbeNumber").GetInt32())
            .ToHashSet();
        numbers.Count.ShouldBe(count);
        numbers.ShouldContain(count - 1);
    }
}
