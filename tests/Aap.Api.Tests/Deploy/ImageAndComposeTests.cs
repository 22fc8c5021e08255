using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Deploy;

/// <summary>
/// The container image and the compose stack, as docs/deployment.md describes them, checked from outside by
/// <c>scripts/image-check.sh --compose</c>: the real Dockerfile built (layers reused between runs) and linted,
/// compose.yaml validated, the image run read-only and healthy (its process with glibc's malloc arenas capped), then
/// compose.yaml's two nodes, the proxy, PostgreSQL, Redis, S3 and Prometheus started on loopback: sign-up through
/// the proxy, a task completed on one node and its points read on the other, Redis healthy on both, both nodes scraped
/// by Prometheus; everything removed at the end.
/// Where no registry answers, the script builds the base images and the services' images from Debian's packages.
/// </summary>
public sealed partial class ImageAndComposeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    /// <summary>How long the script may take to remove what it started once told to stop.</summary>
    private static readonly TimeSpan CleanupGrace = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_image_builds_and_the_compose_stack_serves_across_nodes_with_redis_s3_and_prometheus()
    {
        var missing = await MissingToolsAsync();
        if (missing.Count > 0)
        {
            var ci = Environment.GetEnvironmentVariable("CI") == "true" ? " (CI requires them)" : "";
            Assert.Fail($"The image and compose check needs {string.Join(", ", missing)}{ci}: install Debian's docker.io, " +
                        "docker-compose, debootstrap and npm (apt-get install docker.io docker-compose debootstrap npm) and run as root, " +
                        "or run scripts/test.sh as root, which installs them.");
        }

        var output = new StringBuilder();
        var started = Stopwatch.StartNew();
        var (exitCode, scriptId) = await RunAsync(Path.Combine(Repository.Root(), "scripts", "image-check.sh"), ["--compose"], output);
        var text = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine($"image-check.sh --compose exited {exitCode} after {started.Elapsed:mm\\:ss}");

        exitCode.ShouldBe(0, $"image-check.sh --compose failed:\n{Tail(text)}");
        var image = ImageLine().Match(text);
        image.Success.ShouldBeTrue($"no image line:\n{Tail(text)}");
        int.Parse(image.Groups["mb"].Value, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        text.ShouldContain("lint: Dockerfile passes dockerfile-utils lint; compose.yaml passes");
        text.ShouldContain("user 1654, read-only root, healthy");
        text.ShouldContain("runtime: the service runs with MALLOC_ARENA_MAX=2");
        RewardsLine().IsMatch(text).ShouldBeTrue($"no line saying the completion and the balance read went to different nodes:\n{Tail(text)}");
        text.ShouldContain("redis: aap-1 and aap-2 report redis Healthy in /health/ready");
        text.ShouldContain("compose: two nodes healthy on PostgreSQL, Redis and S3");
        text.ShouldContain("forwarded client addresses honoured");
        text.ShouldContain("prometheus: up{job=\"aap\"} is 1 for aap-1:8080 and aap-2:8080");

        // Nothing of the run is left: with the engine still there (one it did not start), no container, volume or
        // network of its compose project or its single-container check; an engine it started is stopped.
        if (await DockerAsync("info") is not null)
        {
            foreach (var kind in new[] { "container", "volume", "network" })
            {
                foreach (var label in new[] { $"com.docker.compose.project=aapcheck{scriptId}", $"aap.image-check={scriptId}" })
                {
                    string[] list = kind == "container" ? [kind, "ls", "-a", "-q"] : [kind, "ls", "-q"];
                    (await DockerAsync([.. list, "--filter", $"label={label}"])).ShouldBe("", $"{kind}s labelled {label} left");
                }
            }
        }
    }

    /// <summary>
    /// Runs the script in a process group of its own, its output streamed into the test's output. Past the timeout the
    /// whole group is sent SIGTERM (the script's trap then stops the stack and the engine it started), and whatever still
    /// runs after the grace period is killed.
    /// </summary>
    private static async Task<(int ExitCode, int ProcessId)> RunAsync(string script, string[] args, StringBuilder output)
    {
        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = Repository.Root(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        void Line(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            TestContext.Current.TestOutputHelper?.WriteLine(line);
        }

        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // setsid made the script the leader of its own group: signal the group, let the trap clean up.
            using (var term = Process.Start("kill", ["-TERM", "--", $"-{process.Id}"]))
            {
                await term.WaitForExitAsync(CancellationToken.None);
            }

            using var grace = new CancellationTokenSource(CleanupGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            throw new TimeoutException($"image-check.sh did not finish within {Timeout.TotalMinutes} minutes:\n{Tail(output.ToString())}");
        }

        process.WaitForExit();
        return (process.ExitCode, process.Id);
    }

    private static async Task<List<string>> MissingToolsAsync()
    {
        var missing = new List<string>();
        foreach (var tool in new[] { "docker", "npx", "setsid" })
        {
            if (!OnPath(tool))
            {
                missing.Add(tool);
            }
        }

        if (missing.Count == 0 && await DockerAsync("info") is null && (!OnPath("dockerd") || Environment.UserName != "root"))
        {
            missing.Add("a running Docker engine (or dockerd and root to start one)");
        }

        return missing;
    }

    /// <summary>A docker command's output, or null when it fails (no engine).</summary>
    private static async Task<string?> DockerAsync(params string[] args)
    {
        var start = new ProcessStartInfo(File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker", args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var output = await process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        await error;
        await process.WaitForExitAsync(CancellationToken.None);
        return process.ExitCode == 0 ? output.Trim() : null;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, tool)));

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(60));

    [GeneratedRegex(@"^image: \S+, (?<mb>\d+) MB \(\d+ bytes\)", RegexOptions.Multiline)]
    private static partial Regex ImageLine();

    [GeneratedRegex(@"^rewards: the bootstrap admin's app \((?<points>\d+) points\) completed with a screenshot on (?<on>aap-[12]), balance \k<points> read on (?!\k<on>)aap-[12]$", RegexOptions.Multiline)]
    private static partial Regex RewardsLine();
}
