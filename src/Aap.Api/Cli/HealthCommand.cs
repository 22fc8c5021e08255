using System.CommandLine;

namespace Aap.Api.Cli;

/// <summary>
/// <c>aap health [--ready] [--url URL]</c>: asks a running service whether it is live (or ready) and exits 0 when it
/// is, 1 otherwise. It builds no host and reads no settings, so it is cheap enough for a container's health check
/// (the runtime image has no curl).
/// </summary>
internal static class HealthCommand
{
    /// <summary>Whether the arguments name this command: the entry point runs it before building the web host.</summary>
    public static bool Handles(string[] args) => AapCli.WithoutHostOptions(args) is ["health", ..];

    public static Task<int> RunAsync(string[] args) =>
        new RootCommand("AAP (Admin and User Portal).") { Create() }.Parse(AapCli.WithoutHostOptions(args)).InvokeAsync();

    public static Command Create()
    {
        var url = new Option<string>("--url")
        {
            Description = "The service's base address; defaults to the first of ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS on 127.0.0.1, else http://127.0.0.1:5000.",
            DefaultValueFactory = _ => DefaultAddress(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"), Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS")).ToString(),
        };
        url.Validators.Add(result =>
        {
            if (!Uri.TryCreate(result.GetValueOrDefault<string>(), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                result.AddError("--url must be an absolute http(s) address, e.g. http://127.0.0.1:8080.");
            }
        });
        var ready = new Option<bool>("--ready") { Description = "Ask /health/ready (the database is reachable and migrated) rather than /health/live." };
        var timeout = new Option<int>("--timeout-seconds") { Description = "Give up after this many seconds (default 5).", DefaultValueFactory = _ => 5 };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 300)
            {
                result.AddError("--timeout-seconds must be between 1 and 300.");
            }
        });
        var command = new Command("health", "Exit 0 when the service at --url answers live (or ready), 1 otherwise.") { url, ready, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(ready) ? "health/ready" : "health/live";
            var address = new Uri(parse.GetRequiredValue(url).TrimEnd('/') + "/" + path);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)) };
            try
            {
                using var response = await client.GetAsync(address, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    await parse.InvocationConfiguration.Output.WriteLineAsync($"{address}: {(int)response.StatusCode} {(parse.GetValue(ready) ? "ready" : "live")}");
                    return 0;
                }

                await parse.InvocationConfiguration.Error.WriteLineAsync($"aap: {address}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                return 1;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"aap: {address}: no answer ({ex.Message})");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Where the service listens by its own settings, as seen from inside its host or container.</summary>
    internal static Uri DefaultAddress(string? urls, string? httpPorts)
    {
        if (urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) is { } first)
        {
            var rest = first["http://".Length..];
            var port = rest.LastIndexOf(':') is var colon and > 0 && rest.IndexOf(']', StringComparison.Ordinal) < colon
                ? rest[(colon + 1)..].TrimEnd('/')
                : "80";
            return new Uri($"http://127.0.0.1:{port}");
        }

        if (httpPorts?.Split(';', ',').Select(p => p.Trim()).FirstOrDefault(p => p.Length > 0) is { } httpPort)
        {
            return new Uri($"http://127.0.0.1:{httpPort}");
        }

        return new Uri("http://127.0.0.1:5000");
    }
}
