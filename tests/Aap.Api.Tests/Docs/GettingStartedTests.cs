using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Docs;

/// <summary>
/// The pages a newcomer follows are run as printed: every shell block of docs/getting-started.md, and the API
/// examples of the README's quick start, go through bash, curl and jq against the built service started as
/// <c>dotnet run</c> starts it (Development, a fresh data folder), and print what the page shows.
/// </summary>
public sealed partial class GettingStartedTests
{
    /// <summary>The address the pages use; replaced by the test server's.</summary>
    private const string DocumentedAddress = "AAP=http://localhost:5000";

    private const string AdminUser = "admin";
    private const string AdminPassword = "amber tractor violin seashell";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_command_of_getting_started_runs_and_prints_what_the_page_shows()
    {
        var blocks = ShellBlocks.Extract(await ReadPageAsync("docs/getting-started.md"));

        blocks.Count.ShouldBeGreaterThan(10);
        await RunAgainstFreshServerAsync("docs/getting-started.md", blocks);
    }

    [Fact]
    public async Task The_readme_quick_start_examples_run_and_print_what_the_readme_shows()
    {
        var blocks = ShellBlocks.Extract(await ReadPageAsync("README.md"), section: "Quick start");

        blocks.ShouldNotBeEmpty();
        await RunAgainstFreshServerAsync("README.md", blocks);
    }

    [Fact]
    public async Task Blocks_marked_not_run_are_left_out_and_the_rest_are_kept_in_order()
    {
        const string page = """
            # Page
            <!-- not run -->
            ```sh
            dotnet run --project src/Aap.Api
            ```
            ```sh
            echo one
            ```
            prints
            ```text
            one
            ```
            <!-- not run: a secret -->

            ```sh
            SECRET=x
            ```
            ```sh
            echo two
            ```
            ## Other
            ```sh
            echo three
            ```
            """;

        var all = ShellBlocks.Extract(page);
        all.Select(b => b.Code.Trim()).ShouldBe(["echo one", "echo two", "echo three"]);
        all.Select(b => b.Prints).ShouldBe(["one", null, null]);
        ShellBlocks.Extract(page, section: "Other").Select(b => b.Code.Trim()).ShouldBe(["echo three"]);

        var started = ShellBlocks.Extract(await ReadPageAsync("docs/getting-started.md"));
        started.ShouldNotContain(b => b.Code.Contains("dotnet run") || b.Code.Contains("rm -rf"));
    }

    private static async Task RunAgainstFreshServerAsync(string page, IReadOnlyList<ShellBlock> blocks)
    {
        RequireTools("bash", "curl", "jq", "base64", "cmp");
        blocks.Count(b => b.Code.Contains(DocumentedAddress)).ShouldBe(1,
            $"{page} sets the server address once with the line `{DocumentedAddress}`, which the test replaces");

        await using var server = await DocServer.StartAsync(
            new Dictionary<string, string>
            {
                ["Bootstrap__Admin__UserName"] = AdminUser,
                ["Bootstrap__Admin__Email"] = "admin@example.com",
                ["Bootstrap__Admin__Password"] = AdminPassword,
            },
            Ct);

        var script = new StringBuilder("set -euo pipefail\n");
        for (var i = 0; i < blocks.Count; i++)
        {
            script.Append(CultureInfo.InvariantCulture, $"printf '\\n{Separator}{i}\\n'\n");
            script.Append(blocks[i].Code.Replace(DocumentedAddress, $"AAP={server.Address}"));
        }

        var run = await BashAsync(script.ToString(), server.Folder, new Dictionary<string, string>
        {
            // What the pages ask the reader to set from the credentials printed at the first start.
            ["ADMIN"] = $"{AdminUser}:{AdminPassword}",
        });

        var outputs = SplitOutputs(run.StandardOutput);
        var reached = outputs.Count - 1;
        run.ExitCode.ShouldBe(0,
            $"{page}: the block at line {blocks[Math.Max(reached, 0)].Line} failed:\n{blocks[Math.Max(reached, 0)].Code}\n" +
            $"stdout:\n{run.StandardOutput}\nstderr:\n{run.StandardError}\nserver:\n{server.Output}");
        outputs.Count.ShouldBe(blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            if (blocks[i].Prints is { } expected)
            {
                outputs[i].ShouldBe(expected, $"{page}, the block at line {blocks[i].Line}:\n{blocks[i].Code}");
            }
        }
    }

    private const string Separator = "@@block ";

    /// <summary>The standard output of each block, in order (the text before the first marker is dropped).</summary>
    private static List<string> SplitOutputs(string output) =>
        BlockMarker().Split(output.Replace("\r\n", "\n")).Skip(1).Select(o => o.Trim('\n').TrimEnd()).ToList();

    [GeneratedRegex(@"\n@@block \d+\n")]
    private static partial Regex BlockMarker();

    private static void RequireTools(params string[] tools)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var missing = tools.Where(t => !path.Any(dir => File.Exists(Path.Combine(dir, t)))).ToList();
        missing.ShouldBeEmpty($"the documentation's commands need {string.Join(", ", missing)} on PATH (Debian: apt-get install {string.Join(' ', missing)})");
    }

    private static async Task<(int ExitCode, string StandardOutput, string StandardError)> BashAsync(
        string script, string folder, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-s");
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return await ServiceCommand.RunToExitAsync(start, script, TimeSpan.FromMinutes(5), "the page's commands", Ct);
    }

    private static async Task<string> ReadPageAsync(string relativePath)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, relativePath);
            if (File.Exists(candidate) && Directory.Exists(Path.Combine(folder.FullName, "src", "Aap.Api")))
            {
                return await File.ReadAllTextAsync(candidate, Ct);
            }
        }

        throw new FileNotFoundException($"{relativePath} not found above {AppContext.BaseDirectory}");
    }
}
