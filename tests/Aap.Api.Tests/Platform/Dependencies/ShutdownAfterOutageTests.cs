using System.Diagnostics;
using System.Net;
using Aap.Api.Tests.Docs;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>
/// The service as an operator runs it (its own process, PostgreSQL, the jobs' clustered scheduler on the same
/// database) stopped by SIGTERM while its database is down, and after it lived through an outage and the recovery: it
/// exits with code 0 within the host's shutdown timeout, its log file whole and holding the scheduler's last word.
/// A node that does not stop after an outage would stall a rolling upgrade or a scale-in.
/// </summary>
public sealed class ShutdownAfterOutageTests
{
    /// <summary>The host's shutdown timeout (HostOptions' default): the process must be gone before it.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// With the defaults, and with the host's own shutdown timeout (2 s) ending before the scheduler's bound (60 s):
    /// then the host cancels the scheduler's stop, which must be a stop given up, not an error that fails the host's.
    /// </summary>
    [Theory]
    [InlineData(null, null)]
    [InlineData("2", "60")]
    public async Task A_node_stopped_by_SIGTERM_while_its_database_is_down_exits_0_with_its_log_file_complete(string? hostTimeoutSeconds, string? schedulerBoundSeconds)
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        var settings = hostTimeoutSeconds is null ? [] : new Dictionary<string, string>
        {
            ["shutdownTimeoutSeconds"] = hostTimeoutSeconds,
            ["Jobs__ShutdownTimeoutSeconds"] = schedulerBoundSeconds!,
        };
        await using var server = await StartNodeAsync(postgres, settings);
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };

        await postgres.StopAsync(Ct);
        await NoticedOutageAsync(server, http);

        var exitCode = await server.StopAsync(ShutdownTimeout);

        exitCode.ShouldBe(0, server.Output);
        // The scheduler stopped, or (its thread retrying to hand back a trigger whose firing failed, the usual case
        // with a job due every two seconds) the node stopped without it and said so.
        LogFileIsComplete(server, "Shutdown complete", "The scheduler did not stop within");
    }

    [Fact]
    public async Task A_node_that_lived_through_a_database_outage_and_its_recovery_exits_0_on_SIGTERM_with_its_log_file_complete()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        await using var server = await StartNodeAsync(postgres);
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };

        await postgres.StopAsync(Ct);
        await NoticedOutageAsync(server, http);
        await postgres.StartAgainAsync(Ct);

        using (var ready = await Outages.UntilAsync(() => http.GetAsync("/health/ready", Ct), HttpStatusCode.OK))
        {
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync(Ct));
        }

        using (var page = await Outages.UntilAsync(() => http.PageAsync("/leaderboard"), HttpStatusCode.OK))
        {
            page.StatusCode.ShouldBe(HttpStatusCode.OK, await page.Content.ReadAsStringAsync(Ct));
        }

        var exitCode = await server.StopAsync(ShutdownTimeout);

        exitCode.ShouldBe(0, server.Output);
        // Back at work once the database was: the scheduler stopped, as after no outage.
        LogFileIsComplete(server, "Shutdown complete");
    }

    /// <summary>A node on <paramref name="postgres"/>, its scheduler started, checking in every second, a job due every two; <paramref name="settings"/> added.</summary>
    private static async Task<DocServer> StartNodeAsync(PrivatePostgres postgres, Dictionary<string, string>? settings = null)
    {
        var server = await DocServer.StartAsync(new Dictionary<string, string>(settings ?? [])
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Default"] = postgres.ConnectionString,
            ["Database__SeedProfile"] = "test",
            // So that the scheduler meets the outage at once: its cluster manager checks in every second, and a job is
            // due every two seconds (some trigger is then always acquired, or firing, when the database goes away).
            ["Jobs__Cluster__CheckinIntervalSeconds"] = "1",
            ["Jobs__Schedules__idempotency-expiry"] = "0/2 * * * * ?",
        }, Ct);
        try
        {
            await SchedulerStartedAsync(server);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits (up to 60 s) until the node's scheduler reads "started" in <c>/health/ready</c>: the node is ready as
    /// soon as it serves, and its scheduler starts in the background after that ("standby" until then).
    /// </summary>
    private static async Task SchedulerStartedAsync(DocServer server)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var ready = await Outages.UntilAsync(() => http.GetAsync("/health/ready", Ct), HttpStatusCode.OK);
            var body = await ready.Content.ReadAsStringAsync(Ct);
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, body);
            using var health = System.Text.Json.JsonDocument.Parse(body);
            if (health.RootElement.GetProperty("checks").GetProperty("scheduler").GetProperty("description").GetString() == "started")
            {
                return;
            }

            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"the scheduler never started:\n{body}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Requests are refused (503) and the scheduler has met the outage (its cluster check-in failed).</summary>
    private static async Task NoticedOutageAsync(DocServer server, HttpClient http)
    {
        using (var page = await http.PageAsync("/leaderboard"))
        {
            page.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, await page.Content.ReadAsStringAsync(Ct));
        }

        await OutputShowsAsync(server, "Error managing cluster");
    }

    /// <summary>Waits (polling, up to 60 s) until the node's output holds <paramref name="text"/>.</summary>
    private static async Task OutputShowsAsync(DocServer server, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!server.Output.Contains(text, StringComparison.Ordinal))
        {
            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"'{text}' never appeared in the node's output:\n{server.Output}");
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>
    /// Every line of the log file is whole, and it holds the stop and one of <paramref name="scheduler"/>, the
    /// scheduler's last word (the file holds message templates: match their literal text).
    /// </summary>
    private static void LogFileIsComplete(DocServer server, params string[] scheduler)
    {
        var lines = LogFiles.ReadAll(server.DataDirectory);
        lines.ShouldAllBe(l => l.EndsWith('}'), "every line of the file is whole");
        lines.ShouldContain(l => l.Contains("Application is shutting down", StringComparison.Ordinal));
        lines.ShouldContain(l => scheduler.Any(s => l.Contains(s, StringComparison.Ordinal)), $"one of '{string.Join("', '", scheduler)}' in the file:\n{server.Output}");
    }
}
