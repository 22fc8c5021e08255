using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// A real Prometheus (started by scripts/test.sh, named by <c>AAP_TEST_PROMETHEUS</c>) scrapes a running AAP, and
/// its HTTP API answers with AAP's series and their labels. <c>promtool</c> checks the shipped config and rules.
/// </summary>
public sealed class PrometheusTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prometheus_scrapes_the_requests_and_sign_ups_it_was_shown()
    {
        var prometheus = Required("AAP_TEST_PROMETHEUS");
        var targets = Required("AAP_TEST_PROMETHEUS_TARGETS");
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        await host.RegisterAsync();
        await host.RegisterAsync();
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        for (var id = 1; id <= 5; id++)
        {
            using var response = await user.GetAsync($"/api/v1/todos/{id}", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        var run = Guid.NewGuid().ToString("N");
        var target = Path.Combine(targets, $"{run}.json");
        await File.WriteAllTextAsync(target, JsonSerializer.Serialize(new[]
        {
            new { targets = new[] { host.ServerAddress.Authority }, labels = new Dictionary<string, string> { ["test_run"] = run } },
        }), Ct);
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri(prometheus) };

            var signUps = await QueryUntilAsync(api, $"aap_identity_sign_ups_total{{test_run=\"{run}\"}}");
            var todos = await QueryUntilAsync(api, $"http_server_request_duration_seconds_count{{test_run=\"{run}\",http_route=\"/api/v1/todos/{{id}}\"}}");

            var signUp = signUps.ShouldHaveSingleItem();
            signUp.Labels["job"].ShouldBe("aap");
            signUp.Labels["role"].ShouldBe("user");
            signUp.Value.ShouldBe(3);
            var todo = todos.ShouldHaveSingleItem();
            todo.Labels["http_request_method"].ShouldBe("GET");
            todo.Labels["http_response_status_code"].ShouldBe("404");
            todo.Value.ShouldBe(5);
        }
        finally
        {
            File.Delete(target);
        }
    }

    [Fact]
    public async Task Promtool_accepts_the_shipped_config_and_rules_and_their_unit_tests_pass()
    {
        var folder = Path.Combine(Repository.Root(), "deploy", "prometheus");

        (await PromtoolAsync(folder, "check", "config", "--syntax-only", "prometheus.yml")).ShouldContain("SUCCESS");
        (await PromtoolAsync(folder, "check", "rules", "alerts.yml")).ShouldContain("SUCCESS: 9 rules found");
        (await PromtoolAsync(folder, "test", "rules", "alerts.test.yml")).ShouldContain("SUCCESS");
    }

    /// <summary>Asks Prometheus for <paramref name="query"/> until it answers with at least one series (a scrape is due every second).</summary>
    private static async Task<List<Sample>> QueryUntilAsync(HttpClient api, string query)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await api.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", Ct);
            var body = await response.JsonAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
            var result = body.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => new Sample(
                "", series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                double.Parse(series.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture))).ToList();
            if (result.Count > 0)
            {
                return result;
            }

            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"Prometheus never returned a series for {query}");
            await Task.Delay(250, Ct);
        }
    }

    private static async Task<string> PromtoolAsync(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(Required("promtool", "PROMTOOL")) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct) + await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        process.ExitCode.ShouldBe(0, output);
        return output;
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests with scripts/test.sh, which starts Prometheus (Debian package prometheus).");

    private static string Required(string tool, string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException($"{tool} is not on PATH: install the Debian package prometheus (scripts/test.sh does).");
}
