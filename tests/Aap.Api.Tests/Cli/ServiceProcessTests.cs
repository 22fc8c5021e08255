using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Cli;

/// <summary>
/// The built service started as an operator starts it (a process of its own): help and version answer without
/// serving; a start that cannot listen says why in one plain line on standard error.
/// </summary>
public sealed class ServiceProcessTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("aap-process-");

    public void Dispose() => _folder.Delete(recursive: true);

    private string DataDirectory => Path.Combine(_folder.FullName, "data");

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task Help_is_printed_without_starting_the_server(string flag)
    {
        var run = await RunAsync("Development", flag, "--urls", "http://127.0.0.1:0");

        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.ShouldContain("Usage:");
        run.StandardOutput.ShouldContain("migrate");
        run.StandardOutput.ShouldNotContain("Now listening");
        File.Exists(Path.Combine(DataDirectory, "aap.db")).ShouldBeFalse("nothing was migrated");
    }

    [Theory]
    [InlineData("migrate", "--help")]
    [InlineData("seed", "--help")]
    [InlineData("db", "--help")]
    [InlineData("db", "script", "--help")]
    [InlineData("users", "--help")]
    [InlineData("users", "create-admin", "--help")]
    [InlineData("users", "list", "-h")]
    [InlineData("files", "purge", "--help")]
    [InlineData("toolkit", "score", "--help")]
    [InlineData("toolkit", "highlighted", "--help")]
    [InlineData("jobs", "--help")]
    [InlineData("jobs", "run", "--help")]
    [InlineData("import", "csv", "--help")]
    [InlineData("backup", "--help")]
    [InlineData("restore", "--help")]
    [InlineData("health", "--help")]
    [InlineData("--urls", "http://127.0.0.1:0", "--help")]
    [InlineData("--environment", "Production", "migrate", "--help")]
    [InlineData("--urls=http://127.0.0.1:0", "users", "create-admin", "-?")]
    public async Task Every_command_answers_help_without_starting_or_migrating(params string[] args)
    {
        // Production without keys: anything that started or validated the service would fail.
        var run = await RunAsync("Production", args);

        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardError.ShouldBeEmpty();
        run.StandardOutput.ShouldContain("Usage:");
        run.StandardOutput.ShouldContain("aap " + string.Join(' ', args.Where(a => !a.StartsWith('-') && !a.StartsWith("http", StringComparison.Ordinal) && a != "Production")));
        run.StandardOutput.ShouldNotContain("Now listening");
        File.Exists(Path.Combine(DataDirectory, "aap.db")).ShouldBeFalse("nothing was migrated");
    }

    [Fact]
    public async Task Production_without_keys_stops_before_migrating_and_names_each_key_on_standard_error()
    {
        var run = await RunAsync("Production", "--urls", "http://127.0.0.1:0");

        run.ExitCode.ShouldBe(2);
        var lines = run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2, run.StandardError);
        lines.ShouldAllBe(line => line.StartsWith("aap: configuration error: ", StringComparison.Ordinal));
        lines.ShouldContain(line => line.Contains("Auth:SigningKey is required outside Development"));
        lines.ShouldContain(line => line.Contains("Storage:LinkSigningKey is required outside Development"));
        run.StandardOutput.ShouldContain("The service cannot start: Auth:SigningKey is required", Case.Sensitive, "the log says it too");
        run.StandardOutput.ShouldNotContain("Now listening");
        File.Exists(Path.Combine(DataDirectory, "aap.db")).ShouldBeFalse("nothing was migrated");
    }

    [Fact]
    public async Task Create_admin_reads_one_line_of_redirected_standard_input_as_the_password()
    {
        var run = await RunWithInputAsync(Accounts.Password + "\n", "Development", "users", "create-admin", "--username", "ops");

        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.ShouldContain("Created admin ops");
        run.StandardOutput.ShouldNotContain("Password:", Case.Sensitive, "no prompt when standard input is not a terminal");
        run.StandardError.ShouldBeEmpty();
    }

    [Fact]
    public async Task Version_prints_the_version_without_starting_the_server()
    {
        var run = await RunAsync("Development", "--version");

        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.Trim().ShouldStartWith("0.1.0");
        File.Exists(Path.Combine(DataDirectory, "aap.db")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_port_in_use_is_one_clear_line_on_standard_error()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await RunAsync("Development", "--urls", $"http://127.0.0.1:{port}");

        run.ExitCode.ShouldBe(1);
        var lines = run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(1, run.StandardError);
        lines[0].ShouldStartWith("aap: cannot listen:");
        lines[0].ShouldContain($"127.0.0.1:{port}");
        lines[0].ShouldContain("--urls");
    }

    private Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(string environment, params string[] args) =>
        RunWithInputAsync(null, environment, args);

    private async Task<(int ExitCode, string StandardOutput, string StandardError)> RunWithInputAsync(string? input, string environment, params string[] args)
    {
        var start = ServiceCommand.StartInfo(_folder.FullName, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["DOTNET_ENVIRONMENT"] = environment,
            ["AAP_DATA_DIR"] = DataDirectory,
            ["Log__ConsoleFormat"] = "text",
        }, args, redirectInput: true);

        return await ServiceCommand.RunToExitAsync(start, input, TimeSpan.FromMinutes(2), $"aap {string.Join(' ', args)}", Ct);
    }
}
