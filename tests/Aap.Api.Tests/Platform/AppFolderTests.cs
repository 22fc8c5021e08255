using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>The built application reads its appsettings*.json from its own folder, wherever it is started from.</summary>
public sealed partial class AppFolderTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _elsewhere = Directory.CreateTempSubdirectory("aap-elsewhere-");

    public void Dispose() => _elsewhere.Delete(recursive: true);

    [Fact]
    public async Task Started_from_another_folder_the_app_reads_its_own_settings_files()
    {
        // appsettings.Development.json (next to aap.dll) seeds the demo catalog and allows http://localhost:5173;
        // neither is a default in code, so both show whether the file was read.
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = Start(listening);
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromMinutes(2), Ct);
            using var client = new HttpClient { BaseAddress = address };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apps?size=5");
            request.Headers.Add("Origin", "http://localhost:5173");

            using var response = await client.SendAsync(request, Ct);

            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await response.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBeGreaterThan(0, "the demo seed profile of appsettings.Development.json ran");
            response.Headers.GetValues("Access-Control-Allow-Origin").ShouldBe(["http://localhost:5173"]);
            File.Exists(Path.Combine(_elsewhere.FullName, "appsettings.json")).ShouldBeFalse();
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_env_example_copied_as_it_is_keeps_the_README_address_the_demo_seed_and_the_data_folder()
    {
        // As `cp .env.example .env && dotnet run --project src/Aap.Api` in the repository root: dotnet run starts in
        // Development (launchSettings.json) with the root as working directory (RunWorkingDirectory).
        File.Copy(Path.Combine(Repository.Root(), ".env.example"), Path.Combine(_elsewhere.FullName, ".env"));
        await using var service = new Cli.RunningService(_elsewhere.FullName, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Log__ConsoleFormat"] = "text",
        });

        var address = (await service.WaitForAsync(NowListening(), Ct)).Groups["address"].Value;
        address.ShouldBe("http://localhost:5000", service.Output);
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        using var response = await client.GetAsync(new Uri("/api/v1/apps?size=5", UriKind.Relative), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBeGreaterThan(0, "the demo seed still runs");
        File.Exists(Path.Combine(_elsewhere.FullName, "data", "aap.db")).ShouldBeTrue("the data folder is ./data of the folder it was started in");
    }

    [Fact]
    public void Dotnet_run_works_in_the_repository_root()
    {
        var project = File.ReadAllText(Path.Combine(Repository.Root(), "src", "Aap.Api", "Aap.Api.csproj"));

        project.ShouldContain("<RunWorkingDirectory>$([System.IO.Path]::GetFullPath('$(MSBuildProjectDirectory)/../..'))</RunWorkingDirectory>");
    }

    [GeneratedRegex(@"Now listening on: ""?(?<address>http://[^\s""]+)")]
    private static partial Regex NowListening();

    private Process Start(TaskCompletionSource<Uri> listening)
    {
        var start = ServiceCommand.StartInfo(_elsewhere.FullName, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["AAP_DATA_DIR"] = Path.Combine(_elsewhere.FullName, "data"),
            ["Log__ConsoleFormat"] = "text",
        }, ["--urls", "http://127.0.0.1:0"]);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null && Listening().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Value));
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"aap exited with {process.ExitCode} before listening."));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:[0-9]+")]
    private static partial Regex Listening();
}
